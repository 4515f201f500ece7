// Small datasets in Fashion-MNIST's file layout, for tests of the loaders
// and the dataset cache.
#pragma once

#include <string>

namespace anchorage::testing {

// Writes raw (not gzip'd) IDX files named as Fashion-MNIST's into `dir`:
// `train` and `test` images of `side` x `side` pixels whose values vary
// with the image, the pixel and `salt` (0 and 255 included), and labels
// cycling through the ten classes.
void WriteSmallFashionMnist(const std::string& dir, int train, int test,
                            int side = 4, int salt = 0);

}  // namespace anchorage::testing
