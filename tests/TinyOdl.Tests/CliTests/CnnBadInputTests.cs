using System.Text.Json.Nodes;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.CliTests;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>
/// Bad convolution and pooling layers through the real CLI: exit code 2, one line naming the file, the layer and
/// field and the reason, and no output folder left behind.
/// </summary>
public sealed class CnnBadInputTests
{
    private const string ModelFile = "cnn.json";

    /// <summary>A valid small CNN on a [2, 6, 5] input; tests break one field.</summary>
    private static JsonObject Cnn() => JsonNode.Parse("""
        {
          "name": "cnn",
          "input": { "shape": [2, 6, 5] },
          "layers": [
            { "name": "conv1", "op": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1 },
            { "name": "relu1", "op": "relu" },
            { "name": "pool1", "op": "max_pool", "kernel_size": 2 },
            { "name": "flat", "op": "flatten" },
            { "name": "fc", "op": "linear", "out_features": 3 }
          ],
          "loss": { "op": "softmax_cross_entropy" },
          "optimizer": { "op": "sgd", "learning_rate": 0.01 }
        }
        """)!.AsObject();

    private static JsonObject Layer(JsonObject m, int i) => m["layers"]![i]!.AsObject();

    private static void FailsCleanly(JsonObject model, params string[] fragments)
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), model.ToJsonString());
        var r = Cli.Run(tmp.Path, null, ["compile", ModelFile, "-o", "out"]);
        CliExpect.UserError(r, [ModelFile, .. fragments]);
        CliExpect.OnlyEntries(tmp.Path, ModelFile);
    }

    [Fact]
    public void The_valid_model_compiles()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), Cnn().ToJsonString());
        var r = Cli.Run(tmp.Path, null, ["compile", ModelFile, "-o", "out", "--verify-steps", "1"]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "out", "model.c")));
    }

    [Fact]
    public void Kernel_larger_than_the_padded_input()
    {
        var m = Cnn();
        Layer(m, 0)["kernel_size"] = new JsonArray(9, 3);
        FailsCleanly(m, "layers[0] (conv1)", "kernel 9x3 is larger than the padded input 8x7");
    }

    [Fact]
    public void Stride_zero()
    {
        var m = Cnn();
        Layer(m, 0)["stride"] = 0;
        FailsCleanly(m, "layers[0] (conv1).stride", "must be positive");
    }

    [Fact]
    public void Groups_not_dividing_the_channels()
    {
        var m = Cnn();
        Layer(m, 0)["groups"] = 3;
        FailsCleanly(m, "layers[0] (conv1)", "groups 3 must divide both in_channels 2 and out_channels 4");
    }

    [Fact]
    public void In_channels_that_disagree_with_the_input()
    {
        var m = Cnn();
        Layer(m, 0)["in_channels"] = 3;
        FailsCleanly(m, "layers[0] (conv1).in_channels", "shape mismatch", "in_channels is 3", "2 channels");
    }

    [Fact]
    public void Conv_after_a_flat_layer_is_a_shape_mismatch()
    {
        var m = Cnn();
        ((JsonArray)m["layers"]!).Add(new JsonObject { ["name"] = "conv2", ["op"] = "conv2d", ["out_channels"] = 2, ["kernel_size"] = 1 });
        FailsCleanly(m, "layers[5] (conv2)", "shape mismatch", "[channels, height, width]", "'fc' is [3]");
    }

    [Fact]
    public void Pool_padding_as_large_as_the_kernel()
    {
        var m = Cnn();
        Layer(m, 2)["padding"] = 2;
        FailsCleanly(m, "layers[2] (pool1)", "padding 2 must be smaller than the kernel 2x2");
    }

    [Fact]
    public void Add_of_shapes_that_do_not_broadcast()
    {
        var m = Cnn();
        ((JsonArray)m["layers"]!).Insert(2, new JsonObject { ["name"] = "sum", ["op"] = "add", ["inputs"] = new JsonArray("relu1", "input") });
        FailsCleanly(m, "layers[2] (sum)", "shape mismatch", "[4x6x5]", "[2x6x5]", "do not broadcast");
    }
}
