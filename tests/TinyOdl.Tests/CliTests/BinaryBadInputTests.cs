using System.Text.Json.Nodes;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.CliTests;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>
/// Bad binary layers (binary_conv2d, binary_linear) through the real CLI: exit code 2, one stderr line naming the file,
/// the layer (and field) and the reason, no stack trace, and nothing written next to the model (no output folder, no
/// staging folder). And the positive case: channel counts that are not a multiple of the 32-bit sign word compile.
/// </summary>
public sealed class BinaryBadInputTests
{
    private const string ModelFile = "bnn.json";
    private const string ZfhBoard = "qemu-virt-rv32-zfh";

    /// <summary>
    /// A valid binary network on a [33, 5, 4] input (33 channels: two sign words, the second with one used bit):
    /// binary_conv2d with one padding, flatten, binary_linear, linear. Tests break one field.
    /// </summary>
    private static JsonObject Bnn() => JsonNode.Parse("""
        {
          "name": "bnn",
          "input": { "shape": [33, 5, 4] },
          "layers": [
            { "name": "bconv", "op": "binary_conv2d", "out_channels": 5, "kernel_size": 3, "padding": 1, "pad_value": 1 },
            { "name": "flat", "op": "flatten" },
            { "name": "blin", "op": "binary_linear", "out_features": 33, "bias": false },
            { "name": "fc", "op": "linear", "out_features": 3 }
          ],
          "loss": { "op": "softmax_cross_entropy" },
          "optimizer": { "op": "sgd", "learning_rate": 0.01 }
        }
        """)!.AsObject();

    private static JsonObject Conv(JsonObject m) => CliExpect.Layer(m, 0);

    /// <summary>`compile bnn.json -o out ARGS` in a fresh folder: a clean user error mentioning the file and every fragment.</summary>
    private static string FailsCleanly(JsonObject model, string[] args, params string[] fragments)
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), model.ToJsonString());
        var line = CliExpect.UserError(Cli.Run(tmp.Path, CliExpect.NoEnv, ["compile", ModelFile, "-o", "out", .. args]), [ModelFile, .. fragments]);
        CliExpect.OnlyEntries(tmp.Path, ModelFile);
        return line;
    }

    [Fact]
    public void Channels_that_are_not_a_multiple_of_32_compile()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), Bnn().ToJsonString());
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, ["compile", ModelFile, "-o", "out", "--verify-steps", "1"]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Equal("", r.Stderr);
        var code = File.ReadAllText(Path.Combine(tmp.Path, "out", "model.c"));
        // The 33-channel input's signs are packed, the 33-channel weights binarized, and the one-padding XNOR kernel runs.
        Assert.Contains("pack_signs_f32_33x5x4", code);
        Assert.Contains("binarize_weights_f32_5x33x3x3", code);
        Assert.Contains("_one_padding", code);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "out", "expected.txt")));
        Assert.Contains("Binary layers", CliExpect.Flat(r.Stdout));
    }

    /// <summary>2304 taps per output (256 channels, 3x3) need integers binary16 does not hold: refused, naming the layer,
    /// whether fp16 is the layer's own precision or the command line's.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Fp16_with_more_than_2048_taps_names_the_layer(bool layerPrecision)
    {
        var m = Bnn();
        m["input"]!["shape"] = new JsonArray(256, 4, 4);
        if (layerPrecision) Conv(m)["precision"] = "fp16";
        string[] args = layerPrecision ? ["--board", ZfhBoard] : ["--board", ZfhBoard, "--precision", "fp16"];
        var line = FailsCleanly(m, args, "layers[0] (bconv)", "binary_conv2d with 2304 taps per output", "precision fp16", "2048", "fp16-mixed");
        Assert.DoesNotContain("blin", line);
    }

    [Fact]
    public void Pad_value_other_than_0_or_1()
    {
        var m = Bnn();
        Conv(m)["pad_value"] = 2;
        FailsCleanly(m, [], "layers[0] (bconv).pad_value", "must be between 0 and 1, got 2");
    }

    [Theory]
    [InlineData("{\"max_depth\": 0}", "layers[0] (bconv).mst.max_depth", "must be between 1 and 65536, got 0")]
    [InlineData("{\"depth\": 2}", "layers[0] (bconv).mst", "depth")]
    [InlineData("3", "layers[0] (bconv).mst", "must be true, false or an object")]
    public void Bad_mst_option_names_the_field(string mst, string field, string reason)
    {
        var m = Bnn();
        Conv(m)["mst"] = JsonNode.Parse(mst);
        FailsCleanly(m, [], field, reason);
    }

    [Theory]
    [InlineData("{\"adaptivity\": 0}", "", "layers[0] (bconv)", "bop adaptivity must be in (0, 1], got 0")]
    [InlineData("{\"threshold\": -1}", "", "layers[0] (bconv)", "bop threshold must be a finite number >= 0, got -1")]
    [InlineData("{\"gamma\": 0.001}", "", "layers[0] (bconv).bop", "gamma")]
    [InlineData("\"yes\"", "", "layers[0] (bconv).bop", "must be true, false or an object")]
    [InlineData("true", "fp16", "layers[0] (bconv)", "bop needs binary32 accumulation (fp32 or fp16-mixed), not fp16")]
    public void Bad_bop_option_names_the_layer(string bop, string precision, string where, string reason)
    {
        var m = Bnn();
        Conv(m)["bop"] = JsonNode.Parse(bop);
        FailsCleanly(m, precision == "" ? [] : ["--precision", precision, "--board", ZfhBoard], where, reason);
    }

    [Fact]
    public void Binary_conv2d_on_a_rank_1_input_is_a_shape_mismatch()
    {
        var m = Bnn();
        m["input"]!["shape"] = new JsonArray(12);
        FailsCleanly(m, [], "layers[0] (bconv)", "shape mismatch", "binary_conv2d needs a [channels, height, width] input", "'input' is [12]");
    }

    [Fact]
    public void Groups_not_dividing_the_channels()
    {
        var m = Bnn();
        Conv(m)["groups"] = 2;
        FailsCleanly(m, [], "layers[0] (bconv)", "groups 2 must divide both in_channels 33 and out_channels 5");
    }

    [Fact]
    public void Unknown_field_in_a_binary_conv2d_names_it_and_lists_the_known_ones()
    {
        var m = Bnn();
        Conv(m)["pad_mode"] = "ones";
        FailsCleanly(m, [], "layers[0] (bconv).pad_mode", "unknown field", "pad_value", "kernel_size");
    }

    /// <summary>pad_value belongs to binary_conv2d only.</summary>
    [Fact]
    public void Pad_value_in_a_binary_linear_is_an_unknown_field()
    {
        var m = Bnn();
        CliExpect.Layer(m, 2)["pad_value"] = 1;
        var line = FailsCleanly(m, [], "layers[2] (blin).pad_value", "unknown field", "out_features");
        // ... and the fields it lists instead are binary_linear's, without pad_value.
        Assert.DoesNotContain("pad_value", line[line.IndexOf("expected one of", StringComparison.Ordinal)..]);
    }
}
