using TinyOdl.Graph;

namespace TinyOdl.Passes.Binary;

/// <summary>
/// A binary layer's weights as the kernels pack them (docs/BINARY.md), per output channel: bit <c>ci % 32</c> of word
/// <c>(r * kw + c) * words + ci / 32</c> is 1 when <c>W[o][ci][r][c] &lt; 0</c>.
/// </summary>
public static class SignPacking
{
    public static uint[][] WeightChannels(ConvGeometry g, IReadOnlyList<float> latent)
    {
        var w = g.Window;
        int words = g.SignWords;
        var channels = new uint[g.OutChannels][];
        for (int o = 0; o < g.OutChannels; o++)
        {
            var bits = channels[o] = new uint[w.KernelArea * words];
            for (int ci = 0; ci < g.InPerGroup; ci++)
                for (int r = 0; r < w.KernelH; r++)
                    for (int c = 0; c < w.KernelW; c++)
                        if (latent[((o * g.InPerGroup + ci) * w.KernelH + r) * w.KernelW + c] < 0)
                            bits[(r * w.KernelW + c) * words + ci / 32] |= 1u << (ci % 32);
        }
        return channels;
    }
}

/// <summary>MST compression of one binary layer for given weights: one tree per group, costs summed over groups.</summary>
/// <param name="KBits">Bits of one output channel's kernel (in / groups * kh * kw).</param>
/// <param name="MstStorageBits">The weight image's bits (<see cref="MstCost"/>), which <see cref="Image"/> measures too.</param>
/// <param name="PlainWords">The packed weights as the kernels hold them: channels * kernelWords 32-bit words (with the zero tail bits of each tap's last word).</param>
/// <param name="Image">The real stored form, <see cref="MstImage.Encode"/>'s bit stream (what the device writes).</param>
public sealed record BinaryLayerPlan(string Layer, ConvGeometry Geometry, IReadOnlyList<MstTree> Trees, int KBits, long PlainBitOps, long MstBitOps,
    long PlainStorageBits, long MstStorageBits, int MaxDepth, int PlainWords, MstImage.Size Image)
{
    public static BinaryLayerPlan For(string layer, ConvGeometry g, IReadOnlyList<float> latent, int? maxDepth = null)
    {
        var channels = SignPacking.WeightChannels(g, latent);
        int kBits = g.Taps;
        var trees = MstPlanner.BuildGroups(channels, g.Groups, maxDepth);
        var costs = trees.Select(t => MstPlanner.Cost(t, kBits)).ToArray();
        var layout = MstImage.Layout.Of(g);
        var image = MstImage.Measure(MstImage.Encode(channels, MstTree.Join(trees), layout).Words, layout);
        long storage = costs.Sum(c => c.MstStorageBits);
        if (storage != image.Bits)
            throw new InvalidOperationException($"{layer}: the weight image has {image.Bits} bits but the cost formula {storage}");
        return new BinaryLayerPlan(layer, g, trees, kBits, costs.Sum(c => c.PlainBitOps), costs.Sum(c => c.MstBitOps),
            costs.Sum(c => c.PlainStorageBits), storage, trees.Max(t => t.MaxDepth), channels.Sum(c => c.Length), image);
    }
}
