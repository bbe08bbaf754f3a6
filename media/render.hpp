// `stopcalld render` / `stopcall-render`: renders one announcement through the engine into a WAV
// file and writes its cues. See media/README.md for the JSON format and the cues file.
#pragma once

namespace stopcall::media {

// argv[0] is the program (or subcommand) name. Returns 0 on success, 1 on failure, 2 on bad
// usage; messages go to stderr.
int render_main(int argc, char** argv);

}  // namespace stopcall::media
