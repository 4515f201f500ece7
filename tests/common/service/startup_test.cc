#include "common/service/startup.h"

#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "tests/testing/temp_files.h"

namespace anchorage::service {
namespace {

std::string TestDir() {
  return testing::FreshTestDir("service");
}

using testing::ReadAll;
using testing::WriteAll;

config::OutputOptions LoopbackOutput(const std::string& ready_file) {
  config::OutputOptions output;
  output.metrics_address = "127.0.0.1";
  output.ready_file = ready_file;
  return output;
}

TEST(ReadyFileTest, ServerReadyFileReadsBack) {
  const std::string path = TestDir() + "/server.ready";
  const config::OutputOptions output = LoopbackOutput(path);
  StatusOr<Service> service = StartService("test", output);
  ASSERT_TRUE(service.ok()) << service.status().ToString();

  ASSERT_TRUE(WriteReadyFile(output, *service, "tcp://127.0.0.1:40123").ok());
  const StatusOr<ReadyFile> ready = ReadReadyFile(path);

  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  EXPECT_EQ(ready->endpoint, "tcp://127.0.0.1:40123");
  EXPECT_EQ(ready->metrics_port, service->exposer->port());
  EXPECT_EQ(ready->pid, ::getpid());
  // The shell tests read it with sed.
  EXPECT_NE(ReadAll(path).find("\"endpoint\": \"tcp://127.0.0.1:40123\""),
            std::string::npos)
      << ReadAll(path);
}

TEST(ReadyFileTest, WorkerReadyFileHasNoEndpoint) {
  const std::string path = TestDir() + "/worker.ready";
  const config::OutputOptions output = LoopbackOutput(path);
  StatusOr<Service> service = StartService("test", output);
  ASSERT_TRUE(service.ok()) << service.status().ToString();

  ASSERT_TRUE(WriteReadyFile(output, *service, "").ok());
  const StatusOr<ReadyFile> ready = ReadReadyFile(path);

  EXPECT_EQ(ReadAll(path).find("endpoint"), std::string::npos) << ReadAll(path);
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  EXPECT_EQ(ready->endpoint, "");
  EXPECT_EQ(ready->metrics_port, service->exposer->port());
}

TEST(ReadyFileTest, MissingOrBadMetricsPortIsDataLoss) {
  const std::string dir = TestDir();
  WriteAll(dir + "/no-port.ready", "{\"pid\": 12}");
  WriteAll(dir + "/zero-port.ready", "{\"metrics_port\": 0, \"pid\": 12}");
  WriteAll(dir + "/text-port.ready",
           "{\"metrics_port\": \"9100\", \"pid\": 12}");

  for (const char* name : {"no-port", "zero-port", "text-port"}) {
    const std::string path = dir + "/" + name + ".ready";
    const StatusOr<ReadyFile> ready = ReadReadyFile(path);
    ASSERT_FALSE(ready.ok()) << name;
    EXPECT_EQ(ready.status().code(), Status::Code::kDataLoss) << name;
    EXPECT_NE(ready.status().message().find(path), std::string::npos)
        << ready.status().ToString();
    EXPECT_NE(ready.status().message().find("metrics_port"), std::string::npos)
        << ready.status().ToString();
  }
}

}  // namespace
}  // namespace anchorage::service
