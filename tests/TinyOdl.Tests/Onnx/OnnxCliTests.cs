using System.Text.Json;
using Google.Protobuf;
using Onnx;
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

    /// <summary>[N, 2, 6, 6] -> Conv 3x3 (4 channels) -> Relu -> MaxPool 2x2 -> Flatten -> Gemm (3 classes); extra attributes go on Conv / MaxPool.</summary>
    private static OnnxFile Cnn(AttributeProto[]? conv = null, AttributeProto[]? pool = null) => new OnnxFile()
        .Input("x", "N", 2, 6, 6).Output("y", "N", 3)
        .Initializer("k", [4, 2, 3, 3], Random(6, 72)).Initializer("kb", [4], Random(7, 4))
        .Initializer("w", [3, 16], Random(8, 48)).Initializer("b", [3], Random(9, 3))
        .Node("Conv", ["x", "k", "kb"], ["c"], "conv1", [Attr("kernel_shape", new long[] { 3, 3 }), Attr("pads", new long[] { 1, 1, 1, 1 }), .. conv ?? []])
        .Node("Relu", ["c"], ["r"], "relu1")
        .Node("MaxPool", ["r"], ["p"], "pool1", [Attr("kernel_shape", new long[] { 2, 2 }), Attr("strides", new long[] { 3, 3 }), .. pool ?? []])
        .Node("Flatten", ["p"], ["f"], "flatten")
        .Node("Gemm", ["f", "w", "b"], ["y"], "fc", Attr("transB", 1L));

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void Compile_an_onnx_model_writes_the_output_folder(string name)
    {
        using var tmp = new TempDir();
        (name == "mlp" ? Mlp() : Cnn()).Save(tmp.File($"{name}.onnx"));
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", $"{name}.onnx", "-o", "out");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        Assert.True(File.Exists(tmp.File("out/model.c")));
        Assert.True(File.Exists(tmp.File("out/expected.txt")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(tmp.File("out/tinyodl.json")));
        Assert.Contains(name, manifest.RootElement.GetRawText());
        Assert.Contains($"Model '{name}'", CliExpect.Flat(r.Stdout));
    }

    [Fact]
    public void An_unsupported_op_is_a_one_line_user_error_and_writes_nothing()
    {
        using var tmp = new TempDir();
        new OnnxFile()
            .Input("x", "N", 1, 4, 4).Output("y", "N", 2, 2, 2)
            .Initializer("k", [2, 1, 3, 3], Random(5, 18))
            .Node("ConvTranspose", ["x", "k"], ["y"], "deconv1")
            .Save(tmp.File("model.onnx"));
        var r = Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", "model.onnx", "-o", "out");
        var line = CliExpect.UserError(r, "model.onnx: node 'deconv1' (ConvTranspose, opset 13): operator not supported yet; supported: Gemm, MatMul");
        Assert.StartsWith("tinyodl: error: ", line);
        CliExpect.OnlyEntries(tmp.Path, "model.onnx");
    }

    [Fact]
    public void Window_attributes_TinyOdl_does_not_support_are_one_line_user_errors_with_exit_code_2()
    {
        using var tmp = new TempDir();
        var autoPad = new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("SAME") };
        (string File, OnnxFile Model, string Error)[] cases =
        [
            ("dilated.onnx", Cnn(conv: [Attr("dilations", new long[] { 2, 2 })]), "dilated.onnx: node 'conv1' (Conv, opset 13): attribute dilations=[2, 2] is not supported"),
            ("ceil.onnx", Cnn(pool: [Attr("ceil_mode", 1L)]), "ceil.onnx: node 'pool1' (MaxPool, opset 13): attribute ceil_mode=1 is not supported"),
            ("same.onnx", Cnn(conv: [autoPad]), "same.onnx: node 'conv1' (Conv, opset 13): attribute auto_pad=SAME is not supported; supported: NOTSET (explicit pads), VALID, SAME_UPPER, SAME_LOWER"),
            ("groups.onnx", Cnn(conv: [Attr("group", 3L)]), "groups.onnx: node 'conv1' (Conv, opset 13): attribute group=3 is not supported; group must divide the 2 input channels"),
        ];
        foreach (var c in cases)
        {
            c.Model.Save(tmp.File(c.File));
            CliExpect.UserError(Cli.Run(tmp.Path, CliExpect.NoEnv, "compile", c.File, "-o", "out"), c.Error);
        }
        CliExpect.OnlyEntries(tmp.Path, cases.Select(c => c.File).ToArray());
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
