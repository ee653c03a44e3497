using System.Globalization;
using TinyOdl.Graph;
using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// SGD with PyTorch's semantics, fused where the formula is a multiply-add, in the accumulation type:
/// g = fma(wd, w, grad); v = fma(momentum, v, g); w = fma(-lr, v, w); each stored value rounded once to storage.
/// Hyper-parameters are constants of the accumulation type (rounded to f16 under the fp16 policy). With clipping
/// (a binary layer's latent weights) the stored weight is then clamped to [-1, 1], which is exact.
/// </summary>
internal static class SgdLowering
{
    public static Kernel Update(int count, SgdOptimizer opt, Numerics n, KernelTarget target, bool clipToUnit = false)
    {
        var a = n.Accumulate;
        var k = new KernelBuilder();
        var w = k.Output("w", n.Storage, count);
        var grad = k.Input("grad", n.Storage, count);
        var v = opt.HasMomentum ? k.Output("v", n.Storage, count) : null;
        k.For("i", 0, count, target.Vector, i =>
        {
            var gradient = LossLowering.Unscaled(grad[i], opt.LossScale, a);
            var g = k.Declare("g", opt.HasWeightDecay ? Fma(Const(opt.WeightDecay, a), Cast(w[i], a), gradient) : gradient);
            if (v is not null)
            {
                k.Store(v, i, Cast(Fma(Const(opt.Momentum, a), Cast(v[i], a), Ref(g)), n.Storage));
                k.Assign(g, Cast(v[i], a));
            }
            var updated = Cast(Fma(Const(-opt.LearningRate, a), Ref(g), Cast(w[i], a)), n.Storage);
            if (clipToUnit)
            {
                var u = Ref(k.Declare("u", updated));
                var one = Const(1f, n.Storage);
                updated = Select(Gt(u, one), one, Select(Lt(u, Const(-1f, n.Storage)), Const(-1f, n.Storage), u));
            }
            k.Store(w, i, updated);
        });
        var name = $"sgd_{n.Tag}" + (opt.HasMomentum ? "_momentum" : "") + (opt.HasWeightDecay ? "_decay" : "") + LossLowering.ScaleSuffix(opt.LossScale) + (clipToUnit ? "_clip" : "") + target.Suffix + "_" + count.ToString(CultureInfo.InvariantCulture);
        return k.BuildKernel(name);
    }
}
