using TinyOdl.Frontends;
using TinyOdl.Graph;

namespace TinyOdl.Tests.Unit;

public class JsonModelReaderTests
{
    private const string Valid = """
        {
          "name": "m", "seed": 3,
          "input": { "name": "x", "shape": [4] },
          "layers": [
            { "name": "fc1", "op": "linear", "out_features": 3 },
            { "name": "act", "op": "relu" },
            { "name": "fc2", "op": "linear", "out_features": 2, "bias": false, "trainable": { "weight": false } }
          ],
          "loss": { "op": "mse" },
          "optimizer": { "op": "sgd", "learning_rate": 0.1, "momentum": 0.5 }
        }
        """;

    private static ModelDocument Parse(string json) => JsonModelReader.Parse(json, "m.json");

    private static string ErrorOf(string json) => Assert.Throws<TinyOdlException>(() => Parse(json)).Message;

    [Fact]
    public void ReadsLayersShapesAndFlags()
    {
        var m = Parse(Valid).Model;
        Assert.Equal("m", m.Name);
        Assert.Equal(new Shape(4), m.Input.Shape);
        Assert.Equal(["fc1", "act", "fc2"], m.Nodes.Select(n => n.Name));
        var fc2 = Assert.IsType<LinearNode>(m.Nodes[2]);
        Assert.Null(fc2.Bias);
        Assert.False(fc2.Weight.Trainable);
        Assert.Equal(new Shape(2, 3), fc2.Weight.Value.Shape);
        Assert.IsType<MseLossNode>(m.Loss);
        Assert.Equal(new SgdOptimizer(0.1f, 0.5f, 0f), m.Optimizer);
    }

    [Fact]
    public void SameSeedGivesSameBits_OtherSeedDiffers()
    {
        var a = Parse(Valid).Model.Parameters[0].Initial;
        var b = Parse(Valid).Model.Parameters[0].Initial;
        var c = Parse(Valid.Replace("\"seed\": 3", "\"seed\": 4")).Model.Parameters[0].Initial;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, v => Assert.InRange(v, -0.5f, 0.5f)); // U(-1/sqrt(4), 1/sqrt(4))
    }

    [Fact]
    public void ExplicitWeightsAreUsedExactly()
    {
        var json = Valid.Replace("\"out_features\": 3 }", "\"out_features\": 1, \"weights\": { \"weight\": [0.1, -2, 3.5, 1e-3], \"bias\": [0.25] } }");
        var p = Parse(json).Model.Parameters;
        Assert.Equal([0.1f, -2f, 3.5f, 1e-3f], p[0].Initial);
        Assert.Equal([0.25f], p[1].Initial);
    }

    [Theory]
    [InlineData("{ \"name\": \"m\", ", "m.json: invalid JSON at line")]
    [InlineData("[1, 2]", "m.json: must be an object")]
    public void MalformedJson(string json, string expected) => Assert.StartsWith(expected, ErrorOf(json));

    [Fact]
    public void UnknownOpNamesLayerAndSupportedOps() =>
        Assert.Equal("m.json: layers[1] (act).op: unknown op 'gelu'; supported: linear, conv2d, binary_linear, binary_conv2d, phm_linear, phm_conv2d, max_pool, average_pool, global_average_pool, batch_norm, flatten, reshape, relu, leaky_relu, sigmoid, add",
            ErrorOf(Valid.Replace("\"op\": \"relu\"", "\"op\": \"gelu\"")));

    [Fact]
    public void InFeaturesMismatchIsAShapeError() =>
        Assert.Equal("m.json: layers[0] (fc1).in_features: shape mismatch: in_features is 5 but the input 'x' has 4 elements [4]",
            ErrorOf(Valid.Replace("\"out_features\": 3 }", "\"out_features\": 3, \"in_features\": 5 }")));

    [Fact]
    public void WrongWeightCountIsAShapeError() =>
        Assert.Equal("m.json: layers[0] (fc1).weights.weight: shape mismatch: 2 values, expected 12",
            ErrorOf(Valid.Replace("\"out_features\": 3 }", "\"out_features\": 3, \"weights\": { \"weight\": [1, 2] } }")));

    [Fact]
    public void UnknownFieldIsNamed() =>
        Assert.StartsWith("m.json: layers[0] (fc1).out_feature: unknown field; expected one of: op, name",
            ErrorOf(Valid.Replace("\"out_features\": 3", "\"out_feature\": 3")));

    [Fact]
    public void WrongTypeIsNamed() =>
        Assert.Equal("m.json: layers[0] (fc1).out_features: must be an integer",
            ErrorOf(Valid.Replace("\"out_features\": 3", "\"out_features\": \"three\"")));

    [Fact]
    public void MissingRequiredField() =>
        Assert.Equal("m.json: optimizer.learning_rate: missing required field",
            ErrorOf(Valid.Replace("\"learning_rate\": 0.1, ", "")));

    [Fact]
    public void UnknownInputReference() =>
        Assert.Equal("m.json: layers[1] (act).input: no layer or input named 'nope' before this layer",
            ErrorOf(Valid.Replace("\"op\": \"relu\"", "\"op\": \"relu\", \"input\": \"nope\"")));

    [Fact]
    public void DuplicateNodeName() =>
        Assert.Equal("m.json: layers[1] (fc1): name is used twice",
            ErrorOf(Valid.Replace("\"name\": \"act\"", "\"name\": \"fc1\"")));

    [Fact]
    public void OptimizerRangeIsChecked() =>
        Assert.Equal("m.json: optimizer.momentum: must be in [0, 1), got 1.5",
            ErrorOf(Valid.Replace("\"momentum\": 0.5", "\"momentum\": 1.5")));

    [Fact]
    public void LeakyReluAndResidualAdd()
    {
        var json = Valid.Replace("{ \"name\": \"act\", \"op\": \"relu\" },",
            "{ \"name\": \"act\", \"op\": \"leaky_relu\", \"negative_slope\": 0.2 }, { \"name\": \"fc1b\", \"op\": \"linear\", \"out_features\": 3 }, { \"name\": \"sum\", \"op\": \"add\", \"inputs\": [\"act\", \"fc1b\"] },");
        var m = Parse(json).Model;
        Assert.Equal(0.2f, Assert.IsType<LeakyReluNode>(m.Nodes[1]).Slope);
        var add = Assert.IsType<AddNode>(m.Nodes[3]);
        Assert.Equal(("act", "fc1b"), (add.A.Name, add.B.Name));
    }

    [Fact]
    public void AddOfDifferentShapesIsAShapeError() =>
        Assert.Equal("m.json: layers[2] (sum): shape mismatch: 'act' is [3] but 'x' is [4], which do not broadcast (aligned at the last dimension, each pair of dimensions must be equal or 1)",
            ErrorOf(Valid.Replace("{ \"name\": \"fc2\"", "{ \"name\": \"sum\", \"op\": \"add\", \"inputs\": [\"act\", \"x\"] }, { \"name\": \"fc2\"")));

    [Fact]
    public void MissingFile()
    {
        var e = Assert.Throws<TinyOdlException>(() => JsonModelReader.Load("/nonexistent/model.json"));
        Assert.Equal("/nonexistent/model.json: file not found", e.Message);
    }
}
