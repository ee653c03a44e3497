using TinyOdl.Kernels;
using TinyOdl.Numerics;

namespace TinyOdl.Evaluation;

/// <summary>
/// Gradient underflow, the classic failure of FP16 training, measured on the evaluator: for every binary16
/// weight gradient dW[o][i] = dy[o] * x[i], the product is exact in binary32, so after each step it can tell
/// which nonzero products became 0 (underflow) or subnormal (precision lost) in binary16. Linear layers only: a
/// convolution's weight gradient is a sum, whose rounding is not a single product's.
/// </summary>
public sealed class UnderflowMonitor
{
    private readonly List<(KernelCall Call, long Products, long Zero, long Subnormal)> _stats = [];

    public UnderflowMonitor(KernelProgram program)
    {
        foreach (var call in program.TrainStep.Calls.Where(c => c.Pass == Pass.WeightGradient && c.Kernel.Name.StartsWith("linear_", StringComparison.Ordinal) && c.Arguments[2].Element == ScalarType.F16))
            _stats.Add((call, 0, 0, 0));
    }

    public bool IsEmpty => _stats.Count == 0;

    /// <summary>Inspects the gradients of the step just taken.</summary>
    public void AfterStep(Evaluator ev)
    {
        for (int s = 0; s < _stats.Count; s++)
        {
            var (call, products, zero, subnormal) = _stats[s];
            var dy = ev.Read(call.Arguments[0]);
            var x = ev.Read(call.Arguments[1]);
            var dw = ev.ReadBits(call.Arguments[2]);
            for (int o = 0; o < dy.Length; o++)
                for (int i = 0; i < x.Length; i++)
                {
                    if (dy[o] * x[i] == 0f) continue; // exact: a true zero, not an underflow
                    products++;
                    ushort h = (ushort)dw[o * x.Length + i];
                    if (Binary16.IsZero(h)) zero++;
                    else if (Binary16.IsSubnormal(h)) subnormal++;
                }
            _stats[s] = (call, products, zero, subnormal);
        }
    }

    /// <summary>Per weight gradient: its name and the shares of nonzero products that became 0 or subnormal.</summary>
    public IReadOnlyList<(string Gradient, double ZeroShare, double SubnormalShare)> Report() =>
        _stats.Select(s => (s.Call.Arguments[2].Name, s.Products == 0 ? 0 : (double)s.Zero / s.Products,
            s.Products == 0 ? 0 : (double)s.Subnormal / s.Products)).ToArray();
}
