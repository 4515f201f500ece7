#include "common/config/train_data.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/base/log.h"
#include "common/data/dataset_cache.h"
#include "common/data/partition.h"

namespace anchorage::config {
namespace {

// The dataset as the load found it: decoded from its source files, or its
// open cache.
struct Source {
  std::optional<data::TrainTest> decoded;  // set unless `cache` is
  std::optional<data::DatasetCache> cache;
  data::CacheSource where;  // with --data-cache: the cache file
};

// Decodes the source files and, with --data-cache, writes their cache.
StatusOr<Source> Decode(const TrainOptions& train, data::CacheSource where) {
  StatusOr<data::TrainTest> decoded =
      data::LoadDataset(train.dataset, train.data_dir, train.seed);
  if (!decoded.ok()) return decoded.status();
  if (!where.path.empty()) {
    const auto start = std::chrono::steady_clock::now();
    const Status written = data::WriteDatasetCache(where, *decoded);
    const std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - start;
    if (written.ok()) {
      LOG_INFO("wrote the dataset cache %s in %.2f s", where.path.c_str(),
               elapsed.count());
    } else {
      LOG_WARNING("cannot write the dataset cache: %s; going on without it",
                  written.message().c_str());
    }
  }
  Source source;
  source.decoded = std::move(decoded).value();
  source.where = std::move(where);
  return source;
}

// Refuses the cache `where` for `why`, then decodes the source files and
// writes the cache again.
StatusOr<Source> Refuse(const TrainOptions& train, data::CacheSource where,
                        const Status& why) {
  LOG_WARNING("refusing the dataset cache %s; decoding the source files",
              why.message().c_str());
  return Decode(train, std::move(where));
}

StatusOr<Source> Open(const TrainOptions& train) {
  if (train.data_cache.empty() || !data::IsCacheable(train.dataset)) {
    return Decode(train, {});
  }
  StatusOr<data::CacheSource> where = data::DescribeCacheSource(
      train.dataset, train.data_dir, train.data_cache);
  if (!where.ok()) return where.status();
  StatusOr<data::DatasetCache> cache = data::DatasetCache::Open(*where);
  if (cache.ok()) {
    Source source;
    source.cache = std::move(cache).value();
    source.where = std::move(where).value();
    return source;
  }
  if (cache.status().code() == Status::Code::kNotFound) {
    return Decode(train, std::move(where).value());
  }
  return Refuse(train, std::move(where).value(), cache.status());
}

WorkerData ShardOf(const data::TrainTest& all, const data::Partition& partition,
                   const TrainOptions& train, int worker) {
  WorkerData out;
  out.shard =
      data::SelectRows(all.train, partition[static_cast<size_t>(worker)]);
  out.train_size = all.train.size();
  if (train.standardize) {
    data::ApplyStandardization(data::ComputeStandardization(all.train.features),
                               &out.shard.features);
  }
  return out;
}

}  // namespace

StatusOr<data::TrainTest> LoadTrainingData(const TrainOptions& train) {
  StatusOr<Source> source = Open(train);
  if (!source.ok()) return source.status();
  if (source->cache) {
    StatusOr<data::TrainTest> all = source->cache->LoadAll();
    if (all.ok()) {
      source->decoded = std::move(all).value();
    } else {
      source = Refuse(train, std::move(source->where), all.status());
      if (!source.ok()) return source.status();
    }
  }
  data::TrainTest data = std::move(*source->decoded);
  if (train.standardize) data::Standardize(&data);
  return data;
}

StatusOr<WorkerData> LoadWorkerShard(const TrainOptions& train, int worker) {
  if (worker < 0 || worker >= train.workers) {
    return Status::InvalidArgument("worker id " + std::to_string(worker) +
                                   " is outside [0, " +
                                   std::to_string(train.workers) + ")");
  }
  StatusOr<Source> source = Open(train);
  if (!source.ok()) return source.status();
  if (source->cache) {
    const data::DatasetCache& cache = *source->cache;
    StatusOr<data::Partition> partition = data::MakePartition(
        train.partition, cache.TrainLabels(), train.workers, train.seed);
    if (!partition.ok()) return partition.status();
    StatusOr<data::Dataset> shard =
        cache.TrainRows((*partition)[static_cast<size_t>(worker)]);
    if (shard.ok()) {
      WorkerData out;
      out.shard = std::move(shard).value();
      out.train_size = cache.train_size();
      if (train.standardize) {
        data::ApplyStandardization(cache.standardization(),
                                   &out.shard.features);
      }
      return out;
    }
    source = Refuse(train, std::move(source->where), shard.status());
    if (!source.ok()) return source.status();
  }
  const data::TrainTest& all = *source->decoded;
  StatusOr<data::Partition> partition = data::MakePartition(
      train.partition, all.train, train.workers, train.seed);
  if (!partition.ok()) return partition.status();
  return ShardOf(all, *partition, train, worker);
}

StatusOr<EvaluationData> LoadEvaluationData(const TrainOptions& train) {
  StatusOr<Source> source = Open(train);
  if (!source.ok()) return source.status();
  if (source->cache) {
    const data::DatasetCache& cache = *source->cache;
    StatusOr<data::Dataset> test = cache.Test();
    if (test.ok()) {
      EvaluationData out;
      out.test = std::move(test).value();
      out.train_size = cache.train_size();
      if (train.standardize) {
        data::ApplyStandardization(cache.standardization(), &out.test.features);
      }
      return out;
    }
    source = Refuse(train, std::move(source->where), test.status());
    if (!source.ok()) return source.status();
  }
  data::TrainTest& all = *source->decoded;
  if (train.standardize) data::Standardize(&all);
  EvaluationData out;
  out.test = std::move(all.test);
  out.train_size = all.train.size();
  return out;
}

}  // namespace anchorage::config
