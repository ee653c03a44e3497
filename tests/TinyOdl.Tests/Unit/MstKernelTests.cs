using System.Runtime.InteropServices;
using CsCheck;
using TinyOdl.Codegen.C;
using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Kernels;
using TinyOdl.Kernels.Lowering;
using TinyOdl.Passes.Binary;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;
using KernelNumerics = TinyOdl.Kernels.Lowering.Numerics;

namespace TinyOdl.Tests.Unit;

/// <summary>
/// The on-device MST kernels, run in the evaluator: the tree builder must rebuild exactly the compile-time planner's
/// tree (tie-breaking and depth rule included) and only when a weight sign changed, and the MST forward must give
/// XnorForward's outputs bit for bit. Weights and activations go through the real packing kernels.
/// </summary>
public class MstKernelTests
{
    // ---- Running kernels.

    /// <summary>A kernel with one zero-filled byte array per parameter, looked up by parameter name.</summary>
    private sealed class Invocation
    {
        private readonly CompiledKernel _compiled;
        private readonly Kernel _kernel;

        public Invocation(Kernel kernel)
        {
            _kernel = kernel;
            _compiled = KernelCompiler.Compile(kernel);
            Buffers = kernel.Parameters.ToDictionary(p => p.Name, p => new byte[p.Length * p.Element.SizeInBytes()]);
        }

        public Dictionary<string, byte[]> Buffers { get; }

        public void Run() => _compiled.Run(_kernel.Parameters.Select(p => (Buffers[p.Name], 0)).ToArray());

        public int[] Ints(string name) => MemoryMarshal.Cast<byte, int>(Buffers[name]).ToArray();

        public void SetInts(string name, ReadOnlySpan<int> values) => MemoryMarshal.AsBytes(values).CopyTo(Buffers[name]);

        /// <summary>Copies a buffer of another kernel (same name unless given), which must have the same size.</summary>
        public void Take(Invocation from, string name, string? fromName = null)
        {
            var source = from.Buffers[fromName ?? name];
            Assert.Equal(Buffers[name].Length, source.Length);
            source.CopyTo(Buffers[name], 0);
        }

        /// <summary>Writes floats in the buffer's element type (binary16 rounds to nearest even).</summary>
        public void SetFloats(string name, float[] values)
        {
            var type = _kernel.Parameters.Single(p => p.Name == name).Element;
            var bytes = Buffers[name];
            for (int i = 0; i < values.Length; i++)
            {
                if (type == ScalarType.F32) BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), values[i]);
                else BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), BitConverter.HalfToUInt16Bits((Half)values[i]));
            }
        }
    }

    // ---- Random layers.

    /// <summary>
    /// A binary convolution with latent weights and an input. Mode 0: independent random weights; mode 1: every
    /// channel a copy of one of three prototypes with up to two signs flipped; mode 2: one prototype, at most one flip
    /// (many equal and near-equal channels, the ties the planner's rule decides).
    /// </summary>
    private sealed record Layer(ConvGeometry G, BinaryPadding Padding, bool Bias, Precision Precision, int Mode,
        float[] X, float[] W, float[] B, int DepthLimit)
    {
        public KernelNumerics N => KernelNumerics.Of(Precision);
        public override string ToString() =>
            $"in={G.InChannels} out={G.OutChannels} groups={G.Groups} window={G.Window} padding={Padding} bias={Bias} " +
            $"precision={Precision} mode={Mode} limit={DepthLimit} w=[{string.Join(", ", W)}] x=[{string.Join(", ", X)}]";
    }

    private static int[] CommonDivisors(int a, int b) => Enumerable.Range(1, Math.Min(a, b)).Where(d => a % d == 0 && b % d == 0).ToArray();

    /// <summary>Latent weights [co][t] from prototypes: magnitude from <paramref name="magnitudes"/>, sign from the prototype, some flipped.</summary>
    private static float[] Weights(int mode, int cout, int taps, float[] random, float[] prototypes, int[] pick, int[] flips)
    {
        if (mode == 0) return random;
        var w = new float[cout * taps];
        for (int co = 0; co < cout; co++)
        {
            int proto = mode == 1 ? pick[co] % 3 : 0, flipCount = mode == 1 ? flips[co * 3] % 3 : flips[co * 3] % 2;
            for (int t = 0; t < taps; t++)
            {
                float sign = prototypes[proto * taps + t] < 0 ? -1 : 1;
                for (int f = 1; f <= flipCount; f++)
                    if (flips[co * 3 + f] % taps == t) sign = -sign;
                w[co * taps + t] = sign * Math.Abs(random[co * taps + t]);
            }
        }
        return w;
    }

    private static readonly Gen<Layer> Layers =
        from cin in Gen.Int[1, 70]
        from cout in Gen.Int[1, 24]
        from groups in Gen.OneOf(CommonDivisors(cin, cout))
        from kh in Gen.Int[1, 3]
        from kw in Gen.Int[1, 3]
        from sh in Gen.Int[1, 2]
        from sw in Gen.Int[1, 2]
        from pads in Gen.Int[0, 2].Array[4]
        from h in Gen.Int[1, 6]
        from w in Gen.Int[1, 6]
        from one in Gen.Bool
        from bias in Gen.Bool
        from precision in Gen.OneOf(new[] { Precision.Fp32, Precision.Fp16, Precision.Fp16Mixed })
        from mode in Gen.Int[0, 2]
        let window = new Window2d(Math.Max(h, kh - pads[0] - pads[2]), Math.Max(w, kw - pads[1] - pads[3]), kh, kw, sh, sw, pads[0], pads[1], pads[2], pads[3])
        let taps = cin / groups * kh * kw
        from x in Gen.Float[-1f, 1f].Array[cin * window.Height * window.Width]
        from random in Gen.Float[-1f, 1f].Array[cout * taps]
        from prototypes in Gen.Float[-1f, 1f].Array[3 * taps]
        from pick in Gen.Int[0, 2].Array[cout]
        from flips in Gen.Int[0, 1000].Array[cout * 3]
        from b in Gen.Float[-2f, 2f].Array[cout]
        from limit in Gen.Int[1, 4]
        select new Layer(new ConvGeometry(cin, cout, groups, window), one ? BinaryPadding.One : BinaryPadding.Zero, bias, precision, mode,
            x, Weights(mode, cout, taps, random, prototypes, pick, flips), b, limit);

    /// <summary>The packed weight signs and alpha, and the packed input signs, from the pipeline's own kernels.</summary>
    private static (Invocation Weights, Invocation Input) Pack(Layer l)
    {
        var weights = new Invocation(BinaryLowering.BinarizeWeights(l.G, l.N));
        weights.SetFloats("w", l.W);
        weights.Run();
        var input = new Invocation(BinaryLowering.PackSigns(l.G, l.N.Storage));
        input.SetFloats("x", l.X);
        input.Run();
        return (weights, input);
    }

    /// <summary>BuildTree over packed weights, first call (built = 0).</summary>
    private static Invocation BuildTree(ConvGeometry g, int? maxDepth, int[] wBits)
    {
        var tree = new Invocation(MstLowering.BuildTree(g, maxDepth));
        tree.SetInts("w_bits", wBits);
        tree.Run();
        return tree;
    }

    /// <summary>Each channel's packed kernel, as the planner and <see cref="MstImage"/> take them.</summary>
    private static uint[][] Channels(ConvGeometry g, int[] wBits)
    {
        int kernelWords = g.Window.KernelArea * g.SignWords;
        return Enumerable.Range(0, g.OutChannels)
            .Select(co => wBits.AsSpan(co * kernelWords, kernelWords).ToArray().Select(v => (uint)v).ToArray()).ToArray();
    }

    /// <summary>The planner's tree for each group, over the same per-channel bit vectors, in global channel indices.</summary>
    private static MstTree Planned(ConvGeometry g, int? maxDepth, int[] wBits) =>
        MstTree.Join(MstPlanner.BuildGroups(Channels(g, wBits), g.Groups, maxDepth));

    /// <summary>
    /// The device's image is <see cref="MstImage.Encode"/>'s bits, then zeros to the end of the tensor; its length is
    /// the planner's storage count, and it decodes to the bits the tree was built for.
    /// </summary>
    private static void AssertImage(Invocation tree, ConvGeometry g, int? maxDepth, int[] wBits)
    {
        var layout = MstImage.Layout.Of(g);
        var channels = Channels(g, wBits);
        var trees = MstPlanner.BuildGroups(channels, g.Groups, maxDepth);
        var expected = MstImage.Encode(channels, MstTree.Join(trees), layout);
        var image = tree.Ints("image").Select(v => (uint)v).ToArray();
        Assert.Equal(layout.CapacityWords, image.Length);
        Assert.Equal([expected.Bits], tree.Ints("image_bits"));
        Assert.Equal(expected.Words, image[..expected.Words.Length]);
        Assert.All(image[expected.Words.Length..], v => Assert.Equal(0u, v));
        Assert.Equal(trees.Sum(t => MstPlanner.Cost(t, layout.KBits).MstStorageBits), expected.Bits);
        Assert.Equal(channels, MstImage.Decode(image, layout).Kernels);
    }

    /// <summary>The device tree is the planner's: parent, order, the scratch that ends as depth and distance, and the image.</summary>
    private static void AssertPlannerTree(Invocation tree, ConvGeometry g, int? maxDepth, int[] wBits)
    {
        var expected = Planned(g, maxDepth, wBits);
        AssertImage(tree, g, maxDepth, wBits);
        Assert.Equal(expected.Parent, tree.Ints("parent"));
        Assert.Equal(expected.Order, tree.Ints("order"));
        Assert.Equal(expected.Depth, tree.Ints("depth"));
        Assert.Equal(expected.Distance, tree.Ints("key"));
        Assert.All(tree.Ints("in_tree"), v => Assert.Equal(1, v));
        Assert.Equal([1], tree.Ints("built"));
        Assert.Equal(wBits, tree.Ints("previous_bits"));
        if (maxDepth is { } limit) Assert.True(expected.MaxDepth <= limit);
    }

    /// <summary>Runs XnorForward or the MST forward on the packed layer; returns y's bytes.</summary>
    private static byte[] Forward(Layer l, Invocation weights, Invocation input, Invocation? tree)
    {
        var f = new Invocation(tree is null ? BinaryLowering.XnorForward(l.G, l.Bias, l.Padding, l.N) : MstLowering.Forward(l.G, l.Bias, l.Padding, l.N));
        f.Take(input, "x_bits", "bits");
        f.Take(weights, "w_bits", "bits");
        f.Take(weights, "alpha");
        if (l.Bias) f.SetFloats("b", l.B);
        if (tree is not null)
        {
            f.Take(tree, "parent");
            f.Take(tree, "order");
        }
        f.Run();
        return f.Buffers["y"];
    }

    // ---- Properties.

    [Fact]
    public void Device_tree_is_the_planner_tree_and_mst_forward_is_bit_identical_to_xnor_forward()
    {
        Layers.Sample(l =>
        {
            var (weights, input) = Pack(l);
            var wBits = weights.Ints("bits");
            var plain = Forward(l, weights, input, null);
            foreach (int? maxDepth in new int?[] { null, l.DepthLimit })
            {
                var tree = BuildTree(l.G, maxDepth, wBits);
                AssertPlannerTree(tree, l.G, maxDepth, wBits);
                var mst = Forward(l, weights, input, tree);
                Assert.True(plain.AsSpan().SequenceEqual(mst), $"maxDepth {maxDepth}: y differs from XnorForward's");
            }
        }, iter: 300);
    }

    private const int Poison = 0x5A5A5A5A;

    [Fact]
    public void Tree_is_rebuilt_only_after_a_sign_flips()
    {
        var cases =
            from l in Layers
            from channel in Gen.Int[0, 10_000]
            from tap in Gen.Int[0, 10_000]
            from bit in Gen.Int[0, 10_000]
            select (Layer: l, Channel: channel % l.G.OutChannels, Tap: tap % l.G.Window.KernelArea, Bit: bit % l.G.InPerGroup);
        cases.Sample(c =>
        {
            var g = c.Layer.G;
            int? maxDepth = c.Layer.Mode == 0 ? null : c.Layer.DepthLimit;
            var wBits = Pack(c.Layer).Weights.Ints("bits");
            var tree = BuildTree(g, maxDepth, wBits);
            var (parent, order, image, imageBits) = (tree.Ints("parent"), tree.Ints("order"), tree.Ints("image"), tree.Ints("image_bits"));

            // Same bits: the rebuild loop does not run, so the poisoned scratch survives and the tree and image stay.
            foreach (var scratch in new[] { "key", "in_tree", "depth" })
                tree.SetInts(scratch, Enumerable.Repeat(Poison, g.OutChannels).ToArray());
            tree.Run();
            Assert.Equal(parent, tree.Ints("parent"));
            Assert.Equal(order, tree.Ints("order"));
            Assert.Equal(image, tree.Ints("image"));
            Assert.Equal(imageBits, tree.Ints("image_bits"));
            foreach (var scratch in new[] { "key", "in_tree", "depth" })
                Assert.All(tree.Ints(scratch), v => Assert.Equal(Poison, v));
            Assert.Equal(wBits, tree.Ints("previous_bits"));

            // One sign flipped (a real channel bit, not a tail bit): rebuilt, the planner's tree of the new bits.
            int word = (c.Channel * g.Window.KernelArea + c.Tap) * g.SignWords + c.Bit / 32;
            wBits[word] ^= 1 << (c.Bit % 32);
            tree.SetInts("w_bits", wBits);
            tree.Run();
            AssertPlannerTree(tree, g, maxDepth, wBits);
        }, iter: 150);
    }

    [Fact]
    public void First_call_builds_even_when_previous_bits_already_match()
    {
        // All weights positive: every sign bit is 0, as the zero-filled previous_bits. Only `built` says "never built".
        var g = new ConvGeometry(5, 6, 1, new Window2d(3, 3, 3, 3));
        var wBits = new int[g.OutChannels * g.Window.KernelArea * g.SignWords];
        var tree = new Invocation(MstLowering.BuildTree(g, null));
        tree.SetInts("parent", Enumerable.Repeat(Poison, g.OutChannels).ToArray());
        tree.Run();
        // Equal channels: a star around the root in index order (ties keep the first parent and the smallest index).
        Assert.Equal([-1, 0, 0, 0, 0, 0], tree.Ints("parent"));
        Assert.Equal([0, 1, 2, 3, 4, 5], tree.Ints("order"));
        AssertPlannerTree(tree, g, null, wBits);
    }

    /// <summary>
    /// Raw kernel words, not from packing: every bit of a word in use (bit 31 included, so a word of D can be INT_MIN,
    /// which the device's lowest-set-bit step must handle without signed overflow), near copies of few prototypes so
    /// lists, masks and ties occur, and kernels of 65,568 bits (17-bit positions).
    /// </summary>
    [Fact]
    public void Device_image_is_the_encoders_for_raw_words()
    {
        var cases =
            from groupSize in Gen.Int[1, 9]
            from groups in Gen.Int[1, 3]
            from kernelWords in Gen.OneOf(Gen.Int[1, 5], Gen.Int[1, 5], Gen.Int[1, 5], Gen.Const(2049))
            from prototypes in Gen.Int.Array[2 * kernelWords]
            from flips in Gen.Int[0, 1_000_000].Array[groupSize * groups * 4]
            from high in Gen.Bool
            from limit in Gen.OneOf(Gen.Const((int?)null), Gen.Int[1, 3].Select(v => (int?)v))
            select (Geometry: new ConvGeometry(32 * kernelWords * groups, groupSize * groups, groups, new Window2d(1, 1, 1, 1)),
                Words: Enumerable.Range(0, groupSize * groups).SelectMany(c =>
                {
                    var bits = prototypes.AsSpan(c % 2 * kernelWords, kernelWords).ToArray();
                    for (int f = 0; f < flips[c * 4] % 4; f++)
                    {
                        int position = high ? 31 + 32 * (flips[c * 4 + 1 + f] % kernelWords) : flips[c * 4 + 1 + f] % (32 * kernelWords);
                        bits[position / 32] ^= 1 << (position % 32);
                    }
                    return bits;
                }).ToArray(), Limit: limit);
        cases.Sample(c =>
        {
            var tree = BuildTree(c.Geometry, c.Limit, c.Words);
            AssertPlannerTree(tree, c.Geometry, c.Limit, c.Words);
        }, iter: 120);
    }

    [Fact]
    public void Depth_limit_below_one_is_rejected()
    {
        var g = new ConvGeometry(4, 4, 1, new Window2d(3, 3, 1, 1));
        Assert.StartsWith("max_depth:", Assert.Throws<TinyOdlException>(() => MstLowering.BuildTree(g, 0)).Message);
    }

    // ---- Generated C.

    [Fact]
    public void Generated_c_compiles_without_warnings_for_rv32_with_zbb()
    {
        // Two groups, 20 input channels per group (a partial word), uneven padding and strides.
        var g = new ConvGeometry(40, 12, 2, new Window2d(5, 6, 3, 3, 2, 1, 1, 1, 1, 0));
        var n = KernelNumerics.Of(Precision.Fp32);
        var build = MstLowering.BuildTree(g, 2);
        var zero = MstLowering.Forward(g, true, BinaryPadding.Zero, n);
        var one = MstLowering.Forward(g, false, BinaryPadding.One, n);

        // There is no single-kernel C entry point: a small program calls the kernels, the API's float pointers
        // standing in for alpha, b and y so every entry point uses its parameters (-Wextra).
        var buffers = new Dictionary<string, ProgramBuffer>();
        int offset = 0;
        var externals = new Dictionary<string, ProgramBuffer>
        {
            ["input"] = ProgramBuffer.External("input", ScalarType.F32, g.OutChannels),
            ["target"] = ProgramBuffer.External("target", ScalarType.F32, g.OutChannels),
            ["output"] = ProgramBuffer.External("output", ScalarType.F32, g.OutChannels * g.Pixels),
        };
        KernelCall Call(Kernel kernel, params (string Param, string External)[] bound) =>
            new(kernel, kernel.Parameters.Select(p =>
            {
                foreach (var (param, external) in bound)
                    if (param == p.Name) return externals[external];
                if (!buffers.TryGetValue(p.Name, out var b))
                {
                    buffers[p.Name] = b = ProgramBuffer.InArena(p.Name, p.Element, p.Length, offset);
                    offset += p.Length * p.Element.SizeInBytes();
                }
                Assert.Equal(p.Length, b.Length);
                return b;
            }).ToArray(), kernel.Name);
        var train = new[] { Call(build), Call(zero, ("alpha", "input"), ("b", "target")) };
        var predict = new[] { Call(one, ("alpha", "input"), ("y", "output")) };
        var program = new KernelProgram("mst", offset, buffers.Values.ToArray(),
            new EntryPoint("init", [], [], null),
            new EntryPoint("train_step", [externals["input"], externals["target"]], train, buffers["y"]),
            new EntryPoint("predict", [externals["input"], externals["output"]], predict, null),
            [], g.OutChannels, g.OutChannels, g.OutChannels * g.Pixels);

        using var dir = new TempDir();
        File.WriteAllText(dir.File("model.h"), HeaderWriter.EmitHeader(program));
        var source = CBackend.EmitModel(program);
        File.WriteAllText(dir.File("model.c"), source);
        foreach (var kernel in new[] { build, zero, one })
            Assert.Contains($"static void {kernel.Name}(", source);
        var r = QemuRunner.Exec("clang-19",
            $"--target=riscv32 -march=rv32imafc_zbb -mabi=ilp32f -std=c11 -Wall -Wextra -Werror -O2 -c -o \"{dir.File("model.o")}\" \"{dir.File("model.c")}\"");
        Assert.True(r.Code == 0, $"clang-19 failed:\n{r.Stdout}{r.Stderr}");
    }
}
