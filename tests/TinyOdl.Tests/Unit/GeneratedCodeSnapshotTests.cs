using Snapshooter.Xunit;
using TinyOdl.Codegen.C;
using TinyOdl.Codegen.Llvm;
using TinyOdl.Graph;

namespace TinyOdl.Tests.Unit;

/// <summary>
/// Generated code is a product: any change to it shows up as a snapshot diff to review
/// (tests/TinyOdl.Tests/Unit/__snapshots__). Bits are checked elsewhere; this guards readability and API.
/// </summary>
public class GeneratedCodeSnapshotTests
{
    private static CompiledModel Tiny(Precision precision = Precision.Fp32)
    {
        var b = new ModelBuilder("tiny", new Shape(3), seed: 11) { DefaultPrecision = precision };
        var h = b.Relu("relu1", b.Linear("fc1", b.Input, 2, weight: [0.5f, -0.25f, 1f, 0.125f, 2f, -1f], biasValues: [0.1f, -0.1f]));
        var y = b.Linear("fc2", h, 2, bias: false);
        return Pipeline.Compile(b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f, 0.9f, 1e-4f)));
    }

    [Fact]
    public void CModel() => Snapshot.Match(CBackend.EmitModel(Tiny().Program));

    [Fact]
    public void LlvmModel() => Snapshot.Match(LlvmBackend.EmitModel(Tiny().Program));

    [Fact]
    public void CModelFp16Mixed() => Snapshot.Match(CBackend.EmitModel(Tiny(Precision.Fp16Mixed).Program));

    [Fact]
    public void LlvmModelFp16() => Snapshot.Match(LlvmBackend.EmitModel(Tiny(Precision.Fp16).Program));

    /// <summary>A padded 3x3 conv (direct under a zero im2col budget), ReLU, 2x2 max pool, a depthwise conv, linear head.</summary>
    private static CompiledModel TinyCnn(int im2colBudget, Targets.Board? board = null)
    {
        var b = new ModelBuilder("tiny_cnn", new Shape(2, 4, 4), seed: 12);
        var c = b.Relu("relu1", b.Conv2d("conv1", b.Input, 2, new Window2d(4, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1)));
        var p = b.Pool("pool", c, PoolKind.Max, new Window2d(4, 4, 2, 2, 2, 2));
        var d = b.Conv2d("dw", p, 2, new Window2d(2, 2, 2, 2), groups: 2, bias: false);
        var y = b.Linear("fc", b.Flatten("flat", d), 2);
        return Pipeline.Compile(b.SoftmaxCrossEntropy("loss", y).Build(new SgdOptimizer(0.05f)), board, im2colBudgetBytes: im2colBudget);
    }

    [Fact]
    public void CModelCnnDirect() => Snapshot.Match(CBackend.EmitModel(TinyCnn(0).Program));

    [Fact]
    public void CModelCnnIm2colRvv() => Snapshot.Match(CBackend.EmitModel(TinyCnn(1 << 20, Targets.Board.Load("qemu-virt-rv32-zvfh")).Program));

    [Fact]
    public void Header() => Snapshot.Match(HeaderWriter.EmitHeader(Tiny().Program) + HeaderWriter.EmitInfo(Tiny().Program));
}
