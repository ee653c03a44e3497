using Spectre.Console;
using TinyOdl.Passes;
using TinyOdl.Targets;

namespace TinyOdl.Cli;

/// <summary>Tables the commands print.</summary>
internal static class Reports
{
    public static void ModelSummary(CompiledModel m, Board board)
    {
        var mem = new Table().Title($"Model '{Markup.Escape(m.Model.Name)}': {m.Model.ParameterCount} parameters, {m.Graph.Ops.Count} training ops")
            .AddColumn("Arena").AddColumn(new TableColumn("Bytes").RightAligned());
        foreach (var role in Enum.GetValues<TensorRole>())
            if (m.Memory.BytesByRole.TryGetValue(role, out long bytes))
                mem.AddRow(RoleName(role), bytes.ToString("N0"));
        mem.AddRow("sum without sharing", m.Memory.BytesByRole.Values.Sum().ToString("N0"));
        mem.AddRow("[bold]arena (peak, with reuse and alignment)[/]", $"[bold]{m.Memory.ArenaBytes:N0}[/]");
        mem.AddRow("lower bound (most bytes live at one op)", m.Memory.LowerBoundBytes.ToString("N0"));
        mem.AddRow($"board '{Markup.Escape(board.Name)}' RAM", board.RamBytes.ToString("N0"));
        mem.AddRow("frozen weights (read-only data, not in the arena)", FrozenBytes(m).ToString("N0"));
        AnsiConsole.Write(mem);
    }

    /// <summary>Per layer: MACs of each pass and the convolution algorithm chosen for it.</summary>
    public static void LayerTable(CompiledModel m)
    {
        var t = new Table().Title("MACs per layer and pass (one training step)")
            .AddColumn("Layer").AddColumn("Op").AddColumn(new TableColumn("Forward").RightAligned())
            .AddColumn(new TableColumn("Weight gradient").RightAligned()).AddColumn(new TableColumn("Input gradient").RightAligned()).AddColumn("Algorithm");
        var algorithms = m.Graph.Ops.OfType<ConvForward>().ToDictionary(c => c.Name, c => c.Algorithm.ToString().ToLowerInvariant());
        foreach (var x in m.Graph.Ops.OfType<XnorConvForward>()) algorithms[x.Name] = "xnor-popcount";
        foreach (var p in m.Graph.Ops.OfType<PhmFactoredForward>()) algorithms[p.Name] = "factored, " + p.Algorithm.ToString().ToLowerInvariant();
        var calls = m.Program.TrainStep.Calls;
        // Autodiff names a layer's ops after it: "conv1", "conv1_weight_gradient", ...
        string[] suffixes = ["", "_weight_gradient", "_input_gradient", "_bias_gradient", "_scale_gradient", "_shift_gradient", "_build_weight", "_phm_gradient",
            "_mix", "_factor_gradient", "_mixed_gradient", "_mix_weight_gradient"];
        long total(Kernels.Pass pass, string layer) => calls.Where(c => c.Pass == pass && suffixes.Any(s => c.Comment == layer + s)).Sum(c => c.Macs);
        long sumF = 0, sumW = 0, sumI = 0;
        foreach (var node in m.Model.Nodes.Where(Graph.UpdatePolicy.HasParameters))
        {
            long f = total(Kernels.Pass.Forward, node.Name), w = total(Kernels.Pass.WeightGradient, node.Name), i = total(Kernels.Pass.InputGradient, node.Name);
            sumF += f; sumW += w; sumI += i;
            t.AddRow(Markup.Escape(node.Name), node.OpName, f.ToString("N0"), w.ToString("N0"), i.ToString("N0"), algorithms.GetValueOrDefault(node.Name, "-"));
        }
        t.AddRow("[bold]total[/]", "", $"[bold]{sumF:N0}[/]", $"[bold]{sumW:N0}[/]", $"[bold]{sumI:N0}[/]", "");
        AnsiConsole.Write(t);
    }

    /// <summary>
    /// Per PHM layer: parameters and weight bytes against the ordinary layer W stands for, and the evaluation the rule
    /// chose, with the multiply-accumulates per training step of both (docs/PHM.md, "Build or factored").
    /// </summary>
    public static void PhmLayers(CompiledModel m)
    {
        var layers = m.Model.Nodes.OfType<Graph.PhmLayerNode>().ToArray();
        if (layers.Length == 0) return;
        var t = new Table().Title("PHM layers: parameters against the ordinary layer (W = sum_i A_i (x) F_i), MACs per training step")
            .AddColumn("Layer").AddColumn(new TableColumn("n").RightAligned()).AddColumn(new TableColumn("Parameters").RightAligned())
            .AddColumn(new TableColumn("Ordinary").RightAligned()).AddColumn(new TableColumn("Reduction").RightAligned())
            .AddColumn(new TableColumn("Weight bytes").RightAligned()).AddColumn(new TableColumn("Ordinary").RightAligned())
            .AddColumn("Evaluation").AddColumn(new TableColumn("MACs build W").RightAligned()).AddColumn(new TableColumn("MACs factored").RightAligned());
        var calls = m.Program.TrainStep.Calls;
        foreach (var layer in layers)
        {
            var g = layer.Geometry;
            long bias = layer.Bias?.Value.Elements ?? 0;
            long phm = layer.A.Value.Elements + layer.F.Value.Elements + bias;
            long ordinary = (long)g.OutChannels * g.InChannels * g.Window.KernelArea + bias;
            int bytes = Graph.DataTypeExtensions.SizeInBytes(Graph.PrecisionExtensions.Storage(layer.Precision));
            var plan = Passes.PhmEvaluationPlan.For(layer, inputGradient: calls.Any(c => c.Comment == layer.Name + "_input_gradient"));
            string choice = (plan.Factored ? "factored" : "build W") + (layer.Evaluation == Graph.PhmEvaluation.Auto ? "" : " (as set)");
            t.AddRow(Markup.Escape(layer.Name), layer.N.ToString(), phm.ToString("N0"), ordinary.ToString("N0"), $"{(double)ordinary / phm:F2}x",
                (phm * bytes).ToString("N0"), (ordinary * bytes).ToString("N0"), choice, plan.BuildMacs.ToString("N0"), plan.FactoredMacs.ToString("N0"));
        }
        AnsiConsole.Write(t);
    }

    /// <summary>
    /// Per binary layer, MST compression (docs/BINARY.md) for the initial weights and for the weights after the
    /// run the evaluator just simulated: bit operations per output pixel, weight storage in bits (plain K bits per
    /// channel vs the MST weight image the device writes, whose bit count is the cost formula's), the image's bytes vs
    /// the packed weights' bytes (which hold each tap's zero tail bits), the children's forms, and depth.
    /// </summary>
    public static void BinaryLayers(CompiledModel m, IReadOnlyList<ProtocolLine> expected)
    {
        var layers = m.Model.Nodes.OfType<Graph.BinaryLayerNode>().ToArray();
        if (layers.Length == 0) return;
        var final = expected.Where(l => l.Keyword == "param").ToDictionary(l => l.Fields[0], l => l.Fields.Skip(2).Select(Protocol.ParseF32).ToArray());
        var t = new Table().Title("Binary layers: MST compression per output pixel (bit operations) and of the weights (bits; bytes as stored in 32-bit words)")
            .AddColumn("Layer").AddColumn("Weights").AddColumn(new TableColumn("Bit ops plain").RightAligned()).AddColumn(new TableColumn("Bit ops MST").RightAligned())
            .AddColumn(new TableColumn("Storage plain").RightAligned()).AddColumn(new TableColumn("Storage MST (image)").RightAligned())
            .AddColumn(new TableColumn("Packed bytes").RightAligned()).AddColumn(new TableColumn("Image bytes").RightAligned())
            .AddColumn(new TableColumn("Masks / lists").RightAligned()).AddColumn(new TableColumn("Tree depth").RightAligned());
        foreach (var layer in layers)
        {
            var runs = new List<(string, IReadOnlyList<float>)> { ("initial", layer.Weight.Initial) };
            if (final.TryGetValue(layer.Weight.Name, out var trained)) runs.Add(("after the run", trained));
            foreach (var (when, weights) in runs)
            {
                var plan = Passes.Binary.BinaryLayerPlan.For(layer.Name, layer.Geometry, weights, layer.Mst?.MaxDepth);
                string Share(long mst, long plain) => $"{mst:N0} ({100.0 * mst / plain:F0} %)";
                t.AddRow(Markup.Escape(layer.Name), when, plan.PlainBitOps.ToString("N0"), Share(plan.MstBitOps, plan.PlainBitOps),
                    plan.PlainStorageBits.ToString("N0"), Share(plan.MstStorageBits, plan.PlainStorageBits),
                    (plan.PlainWords * 4L).ToString("N0"), Share(plan.Image.Bytes, plan.PlainWords * 4L),
                    $"{plan.Image.Masks} / {plan.Image.Lists}",
                    plan.MaxDepth.ToString());
            }
        }
        AnsiConsole.Write(t);
    }

    /// <summary>Policies beyond this many last-K ones are left out of the table (any K works with --update).</summary>
    private const int ShownLastK = 4;

    /// <summary>MACs per pass, arena and its lower bound for each sparse-update policy, so the choice is made with numbers.</summary>
    public static void UpdatePolicies(Graph.Model model, Board board, string? selected, int im2colBudget)
    {
        var t = new Table().Title("Sparse update: MACs per training step and arena, per policy (--update)")
            .AddColumn("Policy").AddColumn(new TableColumn("Trainable parameters").RightAligned())
            .AddColumn(new TableColumn("Forward MACs").RightAligned()).AddColumn(new TableColumn("Weight-gradient MACs").RightAligned())
            .AddColumn(new TableColumn("Input-gradient MACs").RightAligned()).AddColumn(new TableColumn("Arena bytes").RightAligned())
            .AddColumn(new TableColumn("Lower bound").RightAligned()).AddColumn(new TableColumn("Frozen weights (read-only)").RightAligned());
        var policies = Graph.UpdatePolicy.All(model);
        foreach (var policy in policies.Where(p => p.Policy != Graph.UpdatePolicy.Kind.LastLayers || p.LastLayers <= ShownLastK || p.Name == selected))
        {
            var m = policy.Apply(model);
            var compiled = Pipeline.Compile(m, board, im2colBudgetBytes: im2colBudget);
            var calls = compiled.Program.TrainStep.Calls;
            long Macs(Kernels.Pass pass) => calls.Where(c => c.Pass == pass).Sum(c => c.Macs);
            var name = policy.Name == (selected ?? "") ? $"[bold]{policy.Name} (selected)[/]" : policy.Name;
            t.AddRow(name, m.Parameters.Where(p => p.Trainable).Sum(p => p.Value.Elements).ToString("N0"),
                Macs(Kernels.Pass.Forward).ToString("N0"), Macs(Kernels.Pass.WeightGradient).ToString("N0"),
                Macs(Kernels.Pass.InputGradient).ToString("N0"), compiled.Memory.ArenaBytes.ToString("N0"), compiled.Memory.LowerBoundBytes.ToString("N0"), FrozenBytes(compiled).ToString("N0"));
        }
        AnsiConsole.Write(t);
        int hidden = policies.Count(p => p.Policy == Graph.UpdatePolicy.Kind.LastLayers && p.LastLayers > ShownLastK && p.Name != selected);
        if (hidden > 0) AnsiConsole.MarkupLine($"({hidden} more last-K policies, up to last-{ShownLastK + hidden}: choose one with --update to see it)");
    }

    /// <summary>Bytes of the frozen parameters, which the program image holds instead of the arena.</summary>
    private static long FrozenBytes(CompiledModel m) => m.Graph.Tensors.Where(t => t.Role == TensorRole.FrozenParameter).Sum(t => t.Bytes);

    private static string RoleName(TensorRole role) => role switch
    {
        TensorRole.Parameter => "trained weights and biases",
        TensorRole.Activation => "activations",
        TensorRole.Loss => "loss",
        TensorRole.ActivationGradient => "activation gradients",
        TensorRole.ParameterGradient => "weight gradients",
        TensorRole.OptimizerState => "optimizer state (momentum, Bop averages)",
        TensorRole.LayerState => "layer state (binary layers' MST trees and weight images)",
        TensorRole.Scratch => "scratch",
        _ => role.ToString(),
    };

    public static void Mismatches(IReadOnlyList<Mismatch> mismatches, int limit = 10)
    {
        foreach (var m in mismatches.Take(limit))
            AnsiConsole.MarkupLine($"  [red]mismatch[/] {Markup.Escape(m.ToString())}");
        if (mismatches.Count > limit)
            AnsiConsole.MarkupLine($"  ... and {mismatches.Count - limit} more");
    }
}
