using System.Globalization;
using TinyOdl.Graph;
using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// The Bop optimizer for a binary layer's weights (docs/BINARY.md, "Bop"; Helwegen et al., NeurIPS 2019), per weight
/// in the accumulation type: g = grad / loss scale (exact: a power of two); m = fma(gamma, g - m, m), kept in the
/// accumulation type (a binary16 average would not move by a 1e-4 step); the weight's sign flips, w = -1 * w (exact),
/// where sign(w) * m &gt; tau, sign(w) = -1 for w &lt; 0 else +1 (the binarization's sign: only the sign is the binary weight,
/// so the fixed latent magnitude must not scale the threshold). gamma and tau are constants of the accumulation type.
/// </summary>
internal static class BopLowering
{
    public static Kernel Update(int count, BopOption bop, float lossScale, Numerics n, KernelTarget target)
    {
        var a = n.Accumulate;
        var k = new KernelBuilder();
        var w = k.Output("w", n.Storage, count);
        var grad = k.Input("grad", n.Storage, count);
        var m = k.Output("m", a, count);
        k.For("i", 0, count, target.Vector, i =>
        {
            var average = Ref(k.Declare("average", Fma(Const(bop.Adaptivity, a), LossLowering.Unscaled(grad[i], lossScale, a) - m[i], m[i])));
            k.Store(m, i, average);
            var weight = Ref(k.Declare("weight", w[i]));
            var along = Select(Lt(weight, Const(0f, n.Storage)), Const(-1f, a) * average, average);
            k.Store(w, i, Select(Gt(along, Const(bop.Threshold, a)), Const(-1f, n.Storage) * weight, weight));
        });
        return k.BuildKernel($"bop_{n.Tag}_t{KernelNames.Constant(bop.Threshold)}_g{KernelNames.Constant(bop.Adaptivity)}{LossLowering.ScaleSuffix(lossScale)}{target.Suffix}_{count.ToString(CultureInfo.InvariantCulture)}");
    }
}
