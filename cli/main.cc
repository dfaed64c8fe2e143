// thaw: fine-tune Inception v4 with evidence. Exit codes: 0 success, 2 user error, 1 internal fault,
// 3 a replay that differs from its record.
#include <iostream>
#include <new>

#include "cli/app.h"
#include "cli/commands.h"
#include "core/memory.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"thaw: fine-tune pretrained Inception v4 classifiers, with evidence", "thaw"};
  thaw::cli::add_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const thaw::cli::ExitStatus& e) {
    return e.code;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "thaw: error: " << e.what() << " (see thaw --help)\n";
    return 2;
  } catch (const thaw::UserError& e) {
    std::cerr << "thaw: error: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    // Sizes from flags and files are checked before they are allocated (core/memory.h); what still
    // runs out is the machine's memory taken by the work as a whole, which a smaller batch fixes.
    std::cerr << "thaw: error: out of memory (" << thaw::gib_text(thaw::available_memory_bytes())
              << " available now); a smaller --batch-size, --eval-batch-size or --input-size needs less\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "thaw: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
