using System.Globalization;
using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Passes.Binary;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>
/// MST compression of binary layers inside training (docs/BINARY.md): the tree is rebuilt on the device whenever a sign
/// flips, the MST forward gives the plain XNOR forward's bits, and the device's tree is the compile-time planner's and
/// its weight image the encoder's.
/// </summary>
public sealed class MstTrainingTests
{
    /// <summary>Binary layers of every kind: zero padding, one padding with stride 2, grouped, linear; optionally with MST.</summary>
    private static Model Bnn(Precision precision, bool mst, int? maxDepth = null, float regularization = 0f)
    {
        var option = mst ? new MstOption(maxDepth, regularization) : null;
        var b = new ModelBuilder("bnn_mst", new Shape(3, 6, 6), seed: 5) { DefaultPrecision = precision };
        var c1 = b.Conv2d("conv1", b.Input, 6, new Window2d(6, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1));
        var b1 = b.BinaryConv2d("bconv1", c1, 12, new Window2d(6, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), bias: false, mst: option);
        var b2 = b.BinaryConv2d("bconv2", b1, 8, new Window2d(6, 6, 3, 3, 2, 2, 1, 1, 1, 1), groups: 2, padding: BinaryPadding.One, mst: option);
        var f = b.BinaryLinear("bfc", b.Flatten("flat", b2), 9, mst: option);
        return b.SoftmaxCrossEntropy("loss", b.Linear("fc", f, 3)).Build(new SgdOptimizer(0.05f, Momentum: 0.9f));
    }

    private static readonly (Dataset Train, Dataset Test) Data = Dataset.Synthetic(16, 108, 3, 9).Split(0.25, 2);

    private static IReadOnlyList<ProtocolLine> Trace(Model model, Board board, int steps = 6) =>
        HarnessSimulator.Run(Pipeline.Compile(model, board).Program, RunPlan.Verify(Data.Train, Data.Test, steps));

    public static IEnumerable<object[]> Precisions() => [["fp32"], ["fp16"], ["fp16-mixed"]];

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Mst_training_gives_the_plain_xnor_bits(string precision)
    {
        var p = PrecisionExtensions.Parse(precision, "test");
        var board = Board.Load(p == Precision.Fp32 ? "qemu-virt-rv32-zbb" : "qemu-virt-rv32-zfh");
        var plain = Trace(Bnn(p, mst: false), board);
        // Everything but the header (arena size, table length) and the trees themselves.
        static string[] Comparable(IEnumerable<ProtocolLine> lines) =>
            lines.Where(l => l.Keyword != "model" && !(l.Keyword == "param" && l.Fields[0].Contains("_mst_"))).Select(l => l.ToString()).ToArray();
        var mst = Trace(Bnn(p, mst: true), board);
        Assert.Equal(Comparable(plain), Comparable(mst));
        // Training flipped signs, so the device rebuilt trees along the way and the MST forward ran on fresh ones.
        var model = Bnn(p, mst: false);
        var final = plain.Where(l => l.Keyword == "param").ToDictionary(l => l.Fields[0], l => l.Fields.Skip(2).Select(h => Float(h, p)).ToArray());
        Assert.Contains(model.Nodes.OfType<BinaryLayerNode>(), layer =>
            !SignPacking.WeightChannels(layer.Geometry, layer.Weight.Initial).SelectMany(c => c)
                .SequenceEqual(SignPacking.WeightChannels(layer.Geometry, final[layer.Weight.Name]).SelectMany(c => c)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(1)]
    [InlineData(2)]
    public void Device_tree_after_training_is_the_planners_tree(int? maxDepth)
    {
        using var tmp = new TempDir();
        var board = Board.Load("qemu-virt-rv32-zbb");
        var model = Bnn(Precision.Fp32, mst: true, maxDepth);
        var compiled = Pipeline.Compile(model, board);
        var plan = RunPlan.Verify(Data.Train, Data.Test, 6);
        var device = DeviceCheck.RunMatchesEvaluator(tmp.Path, compiled, board, plan);

        var param = device.Lines.Where(l => l.Keyword == "param").ToDictionary(l => l.Fields[0], l => l.Fields.Skip(2).ToArray());
        foreach (var layer in model.Nodes.OfType<BinaryLayerNode>())
        {
            // The planner on the signs the device's last tree was built for (the last forward pass's, before the last
            // update), which must also be the packing of some weights: one tree per group, in global channel numbers.
            var g = layer.Geometry;
            var bits = Ints(param[layer.Name + "_mst_previous_bits"]).Select(v => unchecked((uint)v)).ToArray();
            int perChannel = bits.Length / g.OutChannels;
            var channels = Enumerable.Range(0, g.OutChannels).Select(o => bits.AsSpan(o * perChannel, perChannel).ToArray()).ToArray();
            var tree = MstTree.Join(MstPlanner.BuildGroups(channels, g.Groups, maxDepth));
            Assert.Equal(1, Ints(param[layer.Name + "_mst_built"]).Single());
            Assert.Equal(tree.Parent, Ints(param[layer.Name + "_mst_parent"]));
            Assert.Equal(tree.Order, Ints(param[layer.Name + "_mst_order"]));
            if (maxDepth is { } limit) Assert.True(tree.MaxDepth <= limit);

            // The weight image the device wrote with that tree: the encoder's bits, zeros after them, as long as the
            // planner's storage count, and it decodes to the bits the tree was built for.
            var layout = MstImage.Layout.Of(g);
            var image = Ints(param[layer.Name + "_mst_image"]).Select(v => unchecked((uint)v)).ToArray();
            var encoded = MstImage.Encode(channels, tree, layout);
            Assert.Equal([encoded.Bits], Ints(param[layer.Name + "_mst_image_bits"]));
            Assert.Equal(encoded.Words, image[..encoded.Words.Length]);
            Assert.All(image[encoded.Words.Length..], v => Assert.Equal(0u, v));
            Assert.Equal(MstPlanner.BuildGroups(channels, g.Groups, maxDepth).Sum(t => MstPlanner.Cost(t, layout.KBits).MstStorageBits), encoded.Bits);
            Assert.Equal(channels, MstImage.Decode(image, layout).Kernels);
        }
    }

    /// <summary>
    /// One step with the MST regularizer moves each binary layer's latent weights by -lr * lambda * (W_c - W_p) for a
    /// child c and +lr * lambda * (W_c - W_p) for its parent p, summed over the tree of the initial weights, relative
    /// to the same step without it (float64 reference; momentum starts at zero, so the first step is plain SGD).
    /// </summary>
    [Fact]
    public void Regularizer_pulls_children_toward_parents_by_lambda_times_their_difference()
    {
        const float lambda = 0.1f, lr = 0.05f;
        var board = Board.Load("qemu-virt-rv32-zbb");
        var plain = Trace(Bnn(Precision.Fp32, mst: true), board, steps: 1);
        var model = Bnn(Precision.Fp32, mst: true, regularization: lambda);
        var regularized = Trace(model, board, steps: 1);
        double worst = 0;
        foreach (var layer in model.Nodes.OfType<BinaryLayerNode>())
        {
            var g = layer.Geometry;
            var w0 = layer.Weight.Initial;
            var expected = new double[w0.Count];
            var trees = BinaryLayerPlan.For(layer.Name, g, w0).Trees;
            for (int gi = 0; gi < trees.Count; gi++)
                for (int v = 0; v < trees[gi].Count; v++)
                {
                    if (trees[gi].Parent[v] < 0) continue;
                    int c = gi * g.OutPerGroup + v, p = gi * g.OutPerGroup + trees[gi].Parent[v];
                    for (int t = 0; t < g.Taps; t++)
                    {
                        double diff = (double)w0[c * g.Taps + t] - w0[p * g.Taps + t];
                        expected[c * g.Taps + t] -= lr * lambda * diff;
                        expected[p * g.Taps + t] += lr * lambda * diff;
                    }
                }
            float[] Final(IReadOnlyList<ProtocolLine> lines) => lines.Single(l => l.Keyword == "param" && l.Fields[0] == layer.Weight.Name).Fields.Skip(2).Select(Protocol.ParseF32).ToArray();
            var a = Final(plain);
            var b = Final(regularized);
            Assert.Contains(expected, e => Math.Abs(e) > 1e-4);
            for (int i = 0; i < a.Length; i++)
                worst = Math.Max(worst, Math.Abs((double)b[i] - a[i] - expected[i]));
        }
        // A few binary32 roundings of values below 1.
        Assert.True(worst < 1e-6, $"worst deviation {worst:E2}");
    }

    /// <summary>A parameter element as printed: binary32 bits, or binary16 bits under the fp16 policies.</summary>
    private static float Float(string hex, Precision p) => p == Precision.Fp32
        ? Protocol.ParseF32(hex)
        : (float)BitConverter.UInt16BitsToHalf(ushort.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    private static int[] Ints(IEnumerable<string> hex) => hex.Select(h => unchecked((int)uint.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))).ToArray();
}
