#include "sim/cluster_trace.h"

#include <gtest/gtest.h>

namespace meridian::sim {
namespace {

TEST(ClusterTrace, ParsesNodesAndPodsByHeader) {
  auto nodes = ParseNodeList("sn,cpu_milli,memory_mib,gpu,model\nn0,32000,1024,2,V100M16\nn1,8000,512,0,\n", "n.csv");
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].gpu_count, 2);
  EXPECT_EQ((*nodes)[0].memory_bytes, 1024LL * 1024 * 1024);
  EXPECT_EQ((*nodes)[1].gpu_model, "");
  auto pods = ParsePodList(
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos\n"
      "p0,4000,100,1,250,,LS\np1,8000,100,2,1000,V100M16|V100M32,BE\np2,1000,10,0,0,,BE\n",
      "p.csv");
  ASSERT_TRUE(pods.ok()) << pods.status();
  EXPECT_TRUE((*pods)[0].shares_gpu());
  EXPECT_EQ((*pods)[1].accepted_gpu_models, (std::vector<std::string>{"V100M16", "V100M32"}));
  EXPECT_FALSE((*pods)[2].wants_gpu());
}

TEST(ClusterTrace, BadRowsNameTheirLine) {
  const std::string header = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n";
  auto bad_number = ParsePodList(header + "p0,4000,100,1,250,\np1,x,1,0,0,\n", "p.csv");
  EXPECT_EQ(bad_number.status().message(), "p.csv:3: cpu_milli \"x\" must be an integer from 0 to 1099511627776");
  EXPECT_FALSE(ParsePodList(header + "p0,1,1,2,500,\n", "p.csv").ok());  // multi-GPU must be whole
  EXPECT_FALSE(ParsePodList(header + "p0,1,1,1,1500,\n", "p.csv").ok());
  EXPECT_FALSE(ParsePodList(header + "p0,1,1\n", "p.csv").ok());
  EXPECT_EQ(ParsePodList("name,cpu_milli\n", "p.csv").status().message(),
            "p.csv: header lacks column \"memory_mib\"");
  EXPECT_FALSE(ParseNodeList("sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,4,\n", "n.csv").ok());  // GPUs need a model
  EXPECT_FALSE(ParseNodeList("", "n.csv").ok());
}

TEST(ClusterTrace, SyntheticClusterDrawsFromTheShapes) {
  std::vector<scheduler::NodeSpec> shapes = {{.name = "a", .cpu_milli = 1, .gpu_count = 8, .gpu_model = "A"},
                                             {.name = "b", .cpu_milli = 2, .gpu_count = 0}};
  auto nodes = SyntheticCluster(shapes, 1000, 7);
  ASSERT_EQ(nodes.size(), 1000u);
  EXPECT_EQ(nodes[999].name, "synthetic-999");
  int with_gpus = 0;
  for (const auto& n : nodes) with_gpus += n.gpu_count > 0;
  EXPECT_GT(with_gpus, 400);
  EXPECT_LT(with_gpus, 600);
}

}  // namespace
}  // namespace meridian::sim
