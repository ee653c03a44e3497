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
