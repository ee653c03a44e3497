using System.Text.Json.Nodes;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.CliTests;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>Bad PHM layers through the real CLI: exit code 2, one line naming the file, the layer and the reason, nothing written.</summary>
public sealed class PhmBadInputTests
{
    private const string ModelFile = "phm.json";

    private static JsonObject Phm() => JsonNode.Parse("""
        {
          "name": "phm",
          "input": { "shape": [4, 5, 5] },
          "layers": [
            { "name": "pconv", "op": "phm_conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1, "n": 2 },
            { "name": "flat", "op": "flatten" },
            { "name": "pfc", "op": "phm_linear", "out_features": 4, "n": 4 }
          ],
          "loss": { "op": "softmax_cross_entropy" },
          "optimizer": { "op": "sgd", "learning_rate": 0.01 }
        }
        """)!.AsObject();

    private static void FailsCleanly(JsonObject model, params string[] fragments)
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), model.ToJsonString());
        CliExpect.UserError(Cli.Run(tmp.Path, CliExpect.NoEnv, ["compile", ModelFile, "-o", "out"]), [ModelFile, .. fragments]);
        CliExpect.OnlyEntries(tmp.Path, ModelFile);
    }

    [Fact]
    public void Channels_not_divisible_by_n_name_the_layer()
    {
        var m = Phm();
        CliExpect.Layer(m, 0)["n"] = 3;
        FailsCleanly(m, "pconv", "in_channels 4 and out_channels 8 must both be divisible by n = 3");
    }

    [Fact]
    public void Features_not_divisible_by_n_name_the_layer()
    {
        var m = Phm();
        CliExpect.Layer(m, 2)["out_features"] = 6;
        FailsCleanly(m, "pfc", "in_features 200 and out_features 6 must both be divisible by n = 4");
    }

    [Fact]
    public void Missing_n_is_named()
    {
        var m = Phm();
        CliExpect.Layer(m, 2).Remove("n");
        FailsCleanly(m, "layers[2] (pfc)", "n");
    }

    [Fact]
    public void Unknown_trainable_part_is_named()
    {
        var m = Phm();
        CliExpect.Layer(m, 0)["trainable"] = JsonNode.Parse("{\"weight\": false}");
        FailsCleanly(m, "layers[0] (pconv).trainable", "weight");
    }

    [Fact]
    public void Unknown_evaluation_is_named()
    {
        var m = Phm();
        CliExpect.Layer(m, 2)["evaluation"] = "lazy";
        FailsCleanly(m, "layers[2] (pfc).evaluation", "unknown evaluation 'lazy'; expected one of: auto, build, factored");
    }

    [Fact]
    public void A_valid_phm_model_compiles_and_reports_the_reduction()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(ModelFile), Phm().ToJsonString());
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, ["compile", ModelFile, "-o", "out", "--verify-steps", "1"]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var flat = CliExpect.Flat(r.Stdout);
        Assert.Contains("PHM layers: parameters against the ordinary layer", flat);
        // pfc: n^3 + out * in / n + bias = 64 + 4 * 200 / 4 + 4 = 268 parameters against 804: 3.00x.
        Assert.Contains("pfc │ 4 │ 268 │ 804 │ 3.00x", flat);
    }
}
