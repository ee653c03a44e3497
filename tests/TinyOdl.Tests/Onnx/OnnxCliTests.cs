using System.Text.Json;
using TinyOdl.Tests.CliTests;
using TinyOdl.Tests.Support;
using static TinyOdl.Tests.Onnx.OnnxFile;

namespace TinyOdl.Tests.Onnx;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>`tinyodl compile model.onnx -o out/` through the real CLI process: it works, and bad files are one-line user errors.</summary>
public sealed class OnnxCliTests
{
    private static OnnxFile Mlp() => new OnnxFile()
        .Input("x", "N", 6).Output("logp", "N", 3)
        .Initializer("w1", [5, 6], Random(1, 30)).Initializer("b1", [5], Random(2, 5))
        .Initializer("w2", [5, 3], Random(3, 15)).Initializer("b2", [3], Random(4, 3))
        .Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1", Attr("transB", 1L))
        .Node("Relu", ["h"], ["r"], "relu1")
        .Node("MatMul", ["r", "w2"], ["z0"], "fc2")
        .Node("Add", ["z0", "b2"], ["z"], "fc2_bias")
        .Node("LogSoftmax", ["z"], ["logp"], "out", Attr("axis", -1L));

    [Fact]
    public void Compile_an_onnx_model_writes_the_output_folder()
    {
        using var tmp = new TempDir();
        Mlp().Save(tmp.File("mlp.onnx"));
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "mlp.onnx", "-o", "out");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        Assert.True(File.Exists(tmp.File("out/model.c")));
        Assert.True(File.Exists(tmp.File("out/expected.txt")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(tmp.File("out/tinyodl.json")));
        Assert.Contains("mlp", manifest.RootElement.GetRawText());
        Assert.Contains("Model 'mlp'", CliExpect.Flat(r.Stdout));
    }

    [Fact]
    public void An_unsupported_op_is_a_one_line_user_error_and_writes_nothing()
    {
        using var tmp = new TempDir();
        new OnnxFile()
            .Input("x", "N", 1, 4, 4).Output("y", "N", 2, 2, 2)
            .Initializer("k", [2, 1, 3, 3], Random(5, 18))
            .Node("Conv", ["x", "k"], ["y"], "conv1")
            .Save(tmp.File("model.onnx"));
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "model.onnx", "-o", "out");
        var line = CliExpect.UserError(r, "model.onnx: node 'conv1' (Conv, opset 13): operator not supported yet; supported: Gemm, MatMul");
        Assert.StartsWith("tinyodl: error: ", line);
        CliExpect.OnlyEntries(tmp.Path, "model.onnx");
    }

    [Fact]
    public void A_json_file_named_onnx_and_an_unknown_extension_are_user_errors()
    {
        using var tmp = new TempDir();
        File.Copy(Path.Combine(Repo.Examples, "digits-mlp.json"), tmp.File("model.onnx"));
        CliExpect.UserError(Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "model.onnx", "-o", "out"), "model.onnx: not an ONNX model (it looks like JSON");
        File.WriteAllBytes(tmp.File("model.pt"), [1, 2, 3]);
        CliExpect.UserError(Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "model.pt", "-o", "out"), "model.pt: unsupported model format '.pt'; expected a .json or .onnx model file");
        CliExpect.OnlyEntries(tmp.Path, "model.onnx", "model.pt");
    }
}
