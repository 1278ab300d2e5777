// The tests' app on RabbitMQ (Dramatiq's RabbitmqBroker, python3-pika), on a private server of
// this test binary's own (tests/rabbitmq/rabbitmq_server.hpp): the same verdicts as on Redis,
// the app's own queue untouched, leakbench's queues deleted.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/bench/leakbench_process.hpp"
#include "tests/dramatiq/real_worker.hpp"
#include "tests/process_tree.hpp"
#include "tests/rabbitmq/rabbitmq_server.hpp"

namespace {

namespace lt = leakbench::test;
constexpr double k_mib = 1 << 20;
const std::string k_apps = LEAKBENCH_TEST_APPS;

class own_app_on_rabbitmq : public lt::with_dramatiq {
 protected:
  void SetUp() override {
    with_dramatiq::SetUp();
    if (IsSkipped()) return;
    if (const auto no = lt::rabbitmq_server::unavailable(); !no.empty()) GTEST_SKIP() << no;
    if (lt::run_process("/usr/bin/python3", {"-c", "import pika"}, dir_.path()).exit_code != 0) {
      GTEST_SKIP() << "/usr/bin/python3 cannot import pika (Debian's python3-pika)";
    }
    url_ = lt::shared_rabbitmq_server().url();
  }
  std::vector<std::string> env() const {
    return {"SHOP_BROKER_URL=" + url_, "PYTHONPATH=" + k_apps + "/fixed:" + commits_->after};
  }
  /// Runs `code` with the app importable; its standard output.
  std::string python(const std::string& code) {
    const auto out = dir_.path() / "py.out", err = dir_.path() / "py.err";
    lt::child_process p("/usr/bin/python3", {"-c", code}, "/dev/null", out.string(), err.string(),
                        env());
    EXPECT_EQ(p.wait(), 0) << lt::slurp(err);
    return lt::slurp(out);
  }
  std::string url_;
};

TEST_F(own_app_on_rabbitmq, the_keeping_middleware_fails_the_gate_the_fix_passes_queues_deleted) {
  // A message of the app's own waits on its queue before the run.
  python("import shop.tasks as t; t.render_invoice.send(1, 10); t.broker.close()");
  lt::leakbench_process p(
      {"--target=dramatiq", "--python=/usr/bin/python3", "--worker_timeout_ms=100",
       "--app=shop.tasks", "--variant=keeping=" + k_apps + "/keeping",
       "--variant=fixed=" + k_apps + "/fixed", "--payload=1MiB", "--retries=8",
       "--message=render_invoice:[17, 1048576]", "--message=ping",
       "--benchmark_filter=^(Single|render_invoice|ping)/"},
      dir_.path(), env());
  // The queues leakbench declares, from its records while it runs.
  std::set<std::string> queues;
  const auto records = dir_.path() / "state" / "leakbench" / "queues";
  for (int i = 0; i < 6000; ++i) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(records, ec)) {
      queues.insert(e.path().stem().string());
    }
    // Until it has exited: a zombie, left for p.wait() to reap and read its exit code.
    if (const auto self = lt::read_process(p.pid()); !self || self->state == 'Z') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto r = p.wait();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = lt::by_name(r.report);
  ASSERT_EQ(benches.size(), 6u);
  EXPECT_EQ(r.report.at("context").at("dramatiq.fixed.broker_class"),
            "dramatiq.brokers.rabbitmq.RabbitmqBroker");
  EXPECT_NE(r.report.at("context")
                .at("dramatiq.fixed.broker_url")
                .get<std::string>()
                .find("amqp://guest:***@127.0.0.1:"),
            std::string::npos);
  for (const char* name : {"Single", "render_invoice"}) {
    SCOPED_TRACE(name);
    EXPECT_NEAR(benches.at(std::string(name) + "/keeping").at("rss_per_retry").get<double>(), k_mib,
                0.03 * k_mib);
    EXPECT_LT(benches.at(std::string(name) + "/fixed").at("rss_per_retry").get<double>(),
              64 * 1024);
  }
  EXPECT_EQ(benches.at("ping/fixed").at("attempts_succeeded"), 8);
  const lt::temp_dir gate_dir;
  const auto gate = lt::run_process(
      LEAKGATE_EXE, {(dir_.path() / "out.json").string(), "--inconclusive=pass"}, gate_dir.path());
  EXPECT_EQ(gate.exit_code, 1) << gate.out;
  EXPECT_NE(gate.out.find("Single/keeping "), std::string::npos) << gate.out;
  // Each of leakbench's queues, and its delay and dead-letter queues, is gone; the app's
  // message still waits on the app's queue.
  ASSERT_FALSE(queues.empty()) << "no queue was recorded";
  std::string names;
  for (const auto& q : queues) names += "'" + q + "', '" + q + ".DQ', '" + q + ".XQ', ";
  const std::string check =
      "import pika, shop.tasks as t\n"
      "gone = 0\n"
      "for name in [" +
      names +
      "]:\n"
      "    try:\n"
      "        t.broker.channel.queue_declare(name, passive=True)\n"
      "    except pika.exceptions.ChannelClosedByBroker:\n"
      "        gone += 1\n"
      "        del t.broker.channel\n"
      "print(gone, t.broker.get_queue_message_counts('invoices')[0])\n"
      "t.broker.close()\n";
  EXPECT_EQ(python(check), std::to_string(3 * queues.size()) + " 1\n");
  python("import shop.tasks as t; t.broker.flush('invoices'); t.broker.close()");
}

}  // namespace
