#include "engine/parallel/comm_staged.h"

#include <vector>

namespace thaw {

void StagedComm::exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) {
  size_t total = 0;
  for (const Transfer& t : sends) total += t.bytes;
  for (const Transfer& t : recvs) total += t.bytes;
  auto* area = static_cast<char*>(staging_.host(total));
  std::vector<Transfer> host_sends, host_recvs;
  host_sends.reserve(sends.size());
  host_recvs.reserve(recvs.size());
  size_t at = 0;
  for (const Transfer& t : sends) {
    staging_.to_host(area + at, t.data, t.bytes);
    host_sends.push_back({t.peer, area + at, t.bytes});
    at += t.bytes;
  }
  for (const Transfer& t : recvs) {
    host_recvs.push_back({t.peer, area + at, t.bytes});
    at += t.bytes;
  }
  // The sends' bytes must be on the host before a peer may read them.
  if (!sends.empty()) staging_.wait(what);
  host_.exchange(host_sends, host_recvs, what);
  for (size_t i = 0; i < recvs.size(); ++i) staging_.to_device(recvs[i].data, host_recvs[i].data, recvs[i].bytes);
  // The next exchange reuses the host area: these copies must have read it by then.
  if (!recvs.empty()) staging_.wait(what);
}

}  // namespace thaw
