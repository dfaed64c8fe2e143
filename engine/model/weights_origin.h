#pragma once
// What a weights file says about where it came from: its architecture (metadata "arch", else
// recognised by a tensor name only that architecture has) and the layer conventions its values
// were trained under (metadata thaw_avgpool_count_pad = true|false and thaw_bn_eps; where silent,
// the architecture's timm conventions). Keras weights pool without counting padded cells, timm's
// inception_v3 counts them: the same tensors give other features under the other rule, so the
// graph follows the file, never a guess.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "graph/graph.h"

namespace thaw {

inline constexpr const char* kMetaAvgpoolCountPad = "thaw_avgpool_count_pad";
inline constexpr const char* kMetaBnEps = "thaw_bn_eps";

struct WeightsOrigin {
  std::string arch;              // empty when neither the metadata nor the tensor names tell
  std::string evidence;          // how the architecture is known, for messages
  LayerConventions conventions;  // as recorded, else the architecture's (or --arch's) defaults
};

// Reads the file's header and metadata; a malformed convention value is a UserError naming the
// file and the key. `fallback_arch` gives the defaults when the file names no architecture.
WeightsOrigin read_weights_origin(const std::filesystem::path& path, const std::string& fallback_arch);

// A UserError naming --weights and --arch when the file holds another architecture than `arch`
// (thaw sweep asks before its first arm; build_graph_for asks it too).
WeightsOrigin check_weights_arch(const std::string& arch, const std::string& weights);

// The network of --arch; with a weights file (non-empty path) built under the file's conventions,
// and a UserError naming --weights and --arch when the file holds another architecture.
Graph build_graph_for(const std::string& arch, int64_t input_size, int64_t num_classes, double dropout,
                      const std::string& weights);

// The metadata that records a graph's conventions (save_weights writes it with every file).
std::map<std::string, std::string> conventions_metadata(const Graph& g);

}  // namespace thaw
