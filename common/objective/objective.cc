#include "common/objective/objective.h"

namespace anchorage::objective {

template class Objective<float>;
template class Objective<double>;

}  // namespace anchorage::objective
