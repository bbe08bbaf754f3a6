#include "media/render.hpp"

int main(int argc, char** argv) {
  return stopcall::media::render_main(argc, argv);
}
