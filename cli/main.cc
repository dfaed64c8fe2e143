// thaw: fine-tune Inception v4 with evidence. Exit codes: 0 success, 2 user error, 1 internal fault,
// 3 a replay that differs from its record.
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"thaw: fine-tune pretrained Inception v4 classifiers, with evidence", "thaw"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("thaw ") + THAW_VERSION);
  thaw::cli::add_inspect(app);
  thaw::cli::add_predict(app);
  thaw::cli::add_bench(app);
  thaw::cli::add_train(app);
  thaw::cli::add_data(app);
  thaw::cli::add_stats(app);
  thaw::cli::add_samplesize(app);
  thaw::cli::add_replay(app);
  thaw::cli::add_pack(app);
  thaw::cli::add_eval(app);
  thaw::cli::add_sweep(app);
  thaw::cli::add_bench_reduce(app);
  thaw::cli::add_export(app);
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
  } catch (const std::exception& e) {
    std::cerr << "thaw: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
