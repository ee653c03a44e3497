using TinyOdl.Data;
using TinyOdl.Kernels;
using TinyOdl.Targets;

namespace TinyOdl.Evaluation;

/// <summary>
/// Runs firmware/harness.c's algorithm on the evaluator and produces the protocol lines the device must print
/// (performance counters as 0). Keep in step with harness.c: same sample order, same float loss sum, same argmax.
/// </summary>
public static class HarnessSimulator
{
    /// <param name="afterStep">Called after every training step with the evaluator (diagnostics such as <see cref="UnderflowMonitor"/>).</param>
    public static IReadOnlyList<ProtocolLine> Run(KernelProgram program, RunPlan plan, Action<int, float>? onEpoch = null, Action<Evaluator>? afterStep = null)
    {
        var ev = new Evaluator(program);
        var lines = new List<ProtocolLine>
        {
            Line("model", program.ModelName, "arena", program.ArenaBytes.ToString(), "params", program.Parameters.Count.ToString()),
        };
        ev.Init();
        var output = new float[program.OutputSize];
        if (plan.IsVerify)
        {
            if (plan.Train.Count > 0)
                for (int s = 0; s < plan.TraceSteps; s++)
                {
                    int i = s % plan.Train.Count;
                    float loss = ev.TrainStep(plan.Train.Inputs[i], plan.Train.Target(i));
                    afterStep?.Invoke(ev);
                    lines.Add(Line("step", s.ToString(), "loss", Protocol.Hex(loss), "instret", "0", "cycles", "0"));
                }
            AddParams(program, ev, lines);
        }
        else
        {
            for (int epoch = 1; epoch <= plan.Epochs; epoch++)
            {
                float sum = 0f;
                for (int s = 0; s < plan.Train.Count; s++)
                {
                    sum += ev.TrainStep(plan.Train.Inputs[s], plan.Train.Target(s));
                    afterStep?.Invoke(ev);
                }
                int correct = 0;
                for (int i = 0; i < plan.Test.Count; i++)
                {
                    ev.Predict(plan.Test.Inputs[i], output);
                    if (ArgMax(output) == plan.Test.Labels[i]) correct++;
                }
                lines.Add(Line("epoch", epoch.ToString(), "loss_sum", Protocol.Hex(sum), "steps", plan.Train.Count.ToString(),
                    "instret_first", "0", "instret_min", "0", "instret_max", "0", "cycles_first", "0",
                    "correct", correct.ToString(), "total", plan.Test.Count.ToString()));
                onEpoch?.Invoke(epoch, sum);
            }
            AddParams(program, ev, lines);
        }
        // Both modes: the first tinyodl_predict_count test samples' outputs, after the parameters.
        for (int i = 0; i < plan.Predictions; i++)
        {
            ev.Predict(plan.Test.Inputs[i], output);
            lines.Add(Line("predict", [i.ToString(), .. output.Select(Protocol.Hex)]));
        }
        lines.Add(Line("done"));
        return lines;
    }

    /// <summary>First maximum wins, strict greater-than, as in harness.c.</summary>
    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int j = 1; j < v.Length; j++)
            if (v[j] > v[best]) best = j;
        return best;
    }

    private static void AddParams(KernelProgram program, Evaluator ev, List<ProtocolLine> lines)
    {
        foreach (var p in program.Parameters)
        {
            int digits = p.Buffer.Element.SizeInBytes() * 2;
            lines.Add(Line("param", [p.Name, p.Buffer.Length.ToString(), .. ev.ReadBits(p.Buffer).Select(b => b.ToString("x" + digits))]));
        }
    }

    private static ProtocolLine Line(string keyword, params string[] fields) => new(keyword, fields);
}
