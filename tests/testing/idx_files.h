// Small datasets in Fashion-MNIST's file layout, for tests of the loaders
// and the dataset cache, and a bit-for-bit comparison of what they load.
#pragma once

#include <string>

#include "common/data/dataset.h"

namespace anchorage::testing {

// Bit for bit: features compared as bytes, so a NaN or -0 would count.
void ExpectSameSplit(const data::Dataset& got, const data::Dataset& want);

// Writes raw (not gzip'd) IDX files named as Fashion-MNIST's into `dir`:
// `train` and `test` images of `side` x `side` pixels whose values vary
// with the image, the pixel and `salt` (0 and 255 included), and labels
// cycling through the ten classes.
void WriteSmallFashionMnist(const std::string& dir, int train, int test,
                            int side = 4, int salt = 0);

}  // namespace anchorage::testing
