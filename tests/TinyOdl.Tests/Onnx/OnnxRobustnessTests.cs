using TinyOdl.Frontends.Onnx;
using static TinyOdl.Tests.Onnx.OnnxFile;

namespace TinyOdl.Tests.Onnx;

/// <summary>Damaged files end in a <see cref="TinyOdlException"/> (one line), never in another exception.</summary>
public sealed class OnnxRobustnessTests
{
    private static byte[] Model() => new OnnxFile()
        .Input("x", "N", 2, 3).Output("y", "N", 4)
        .Initializer("w", [4, 6], Random(1, 24), raw: true).Initializer("b", [4], Random(2, 4))
        .Int64Initializer("s", 0, -1)
        .Node("Reshape", ["x", "s"], ["f"], "flat")
        .Node("Gemm", ["f", "w", "b"], ["h"], "fc", Attr("transB", 1L))
        .Node("Dropout", ["h"], ["d"], "drop")
        .Node("Relu", ["d"], ["y"], "act")
        .Bytes();

    private static void ImportsOrFailsCleanly(byte[] bytes, string what)
    {
        try { _ = Pipeline.Compile(OnnxModelReader.Import(bytes, "m.onnx").Model); }
        catch (TinyOdlException e) { Assert.False(e.Message.Contains('\n'), $"{what}: multi-line error {e.Message}"); }
        catch (Exception e) { Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}"); }
    }

    [Fact]
    public void Every_truncation_is_a_clean_error()
    {
        var bytes = Model();
        _ = OnnxModelReader.Import(bytes, "m.onnx");
        for (int n = 0; n < bytes.Length; n++)
        {
            var e = Assert.Throws<TinyOdlException>(() => OnnxModelReader.Import(bytes[..n], "m.onnx"));
            Assert.StartsWith("m.onnx: ", e.Message);
        }
    }

    [Fact]
    public void Corrupted_bytes_import_or_fail_cleanly()
    {
        var good = Model();
        var rng = new Random(5);
        for (int i = 0; i < 3000; i++)
        {
            var bytes = (byte[])good.Clone();
            int flips = 1 + rng.Next(3);
            for (int k = 0; k < flips; k++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            ImportsOrFailsCleanly(bytes, $"corruption {i}");
        }
    }

    [Fact]
    public void Huge_dimensions_are_errors_not_overflows()
    {
        var huge = new OnnxFile().Input("x", "N", 1 << 20, 1 << 20).Output("y", "N", 1).Node("Relu", ["x"], ["y"], "act");
        Assert.Contains("more than 16777216 elements per sample", Assert.Throws<TinyOdlException>(() => OnnxModelReader.Import(huge.Bytes(), "m.onnx")).Message);
        var reshape = new OnnxFile().Input("x", "N", 4).Output("y", "N", 4)
            .Int64Initializer("s", 0, 1L << 32, 1L << 32).Node("Reshape", ["x", "s"], ["r"], "r").Node("Relu", ["r"], ["y"], "act");
        Assert.Contains("shape mismatch", Assert.Throws<TinyOdlException>(() => OnnxModelReader.Import(reshape.Bytes(), "m.onnx")).Message);
        var names = new OnnxFile().Input("x\nline", "N", 4).Output("y", "N", 4).Node("Tanh", ["x\nline"], ["y"], "bad\nname");
        var e = Assert.Throws<TinyOdlException>(() => OnnxModelReader.Import(names.Bytes(), "m.onnx"));
        Assert.Equal("m.onnx: node 'bad\\u000aname' (Tanh, opset 13): operator not supported yet", e.Message[..e.Message.IndexOf(';')]);
    }
}
