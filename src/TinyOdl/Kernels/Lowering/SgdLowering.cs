using System.Globalization;
using TinyOdl.Graph;
using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// SGD with PyTorch's semantics, fused where the formula is a multiply-add:
/// g = fma(wd, w, grad); v = fma(momentum, v, g); w = fma(-lr, v, w). Hyper-parameters are baked in as constants.
/// </summary>
internal static class SgdLowering
{
    public static Kernel Update(int n, SgdOptimizer opt)
    {
        var k = new KernelBuilder();
        var w = k.Output("w", ScalarType.F32, n);
        var grad = k.Input("grad", ScalarType.F32, n);
        var v = opt.HasMomentum ? k.Output("v", ScalarType.F32, n) : null;
        k.For("i", 0, n, i =>
        {
            var g = k.Declare("g", opt.HasWeightDecay ? Fma(F(opt.WeightDecay), w[i], grad[i]) : grad[i]);
            if (v is not null)
            {
                k.Store(v, i, Fma(F(opt.Momentum), v[i], Ref(g)));
                k.Assign(g, v[i]);
            }
            k.Store(w, i, Fma(F(-opt.LearningRate), Ref(g), w[i]));
        });
        var name = "sgd_f32" + (opt.HasMomentum ? "_momentum" : "") + (opt.HasWeightDecay ? "_decay" : "") + "_" + n.ToString(CultureInfo.InvariantCulture);
        return k.BuildKernel(name);
    }
}
