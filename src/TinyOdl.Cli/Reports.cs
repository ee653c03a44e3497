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
        AnsiConsole.Write(mem);
    }

    /// <summary>MACs per pass and arena for each sparse-update policy, so the choice is made with numbers.</summary>
    public static void UpdatePolicies(Graph.Model model, Board board, string? selected)
    {
        var t = new Table().Title("Sparse update: MACs per training step and arena, per policy (--update)")
            .AddColumn("Policy").AddColumn(new TableColumn("Trainable parameters").RightAligned())
            .AddColumn(new TableColumn("Forward MACs").RightAligned()).AddColumn(new TableColumn("Weight-gradient MACs").RightAligned())
            .AddColumn(new TableColumn("Input-gradient MACs").RightAligned()).AddColumn(new TableColumn("Arena bytes").RightAligned());
        foreach (var policy in Graph.UpdatePolicy.All(model))
        {
            var m = policy.Apply(model);
            var compiled = Pipeline.Compile(m, board);
            var calls = compiled.Program.TrainStep.Calls;
            long Macs(Kernels.Pass pass) => calls.Where(c => c.Pass == pass).Sum(c => c.Macs);
            var name = policy.Name == (selected ?? "") ? $"[bold]{policy.Name} (selected)[/]" : policy.Name;
            t.AddRow(name, m.Parameters.Where(p => p.Trainable).Sum(p => p.Value.Elements).ToString("N0"),
                Macs(Kernels.Pass.Forward).ToString("N0"), Macs(Kernels.Pass.WeightGradient).ToString("N0"),
                Macs(Kernels.Pass.InputGradient).ToString("N0"), compiled.Memory.ArenaBytes.ToString("N0"));
        }
        AnsiConsole.Write(t);
    }

    private static string RoleName(TensorRole role) => role switch
    {
        TensorRole.Parameter => "weights and biases",
        TensorRole.Activation => "activations",
        TensorRole.Loss => "loss",
        TensorRole.ActivationGradient => "activation gradients",
        TensorRole.ParameterGradient => "weight gradients",
        TensorRole.OptimizerState => "optimizer state (momentum)",
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
