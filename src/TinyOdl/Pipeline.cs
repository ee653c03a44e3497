using TinyOdl.Graph;
using TinyOdl.Kernels;
using TinyOdl.Kernels.Lowering;
using TinyOdl.Passes;
using TinyOdl.Targets;

namespace TinyOdl;

/// <summary>A model taken through every compiler stage; each stage's result stays inspectable.</summary>
public sealed record CompiledModel(Model Model, TrainingGraph Graph, MemoryPlan Memory, KernelProgram Program);

/// <summary>The compiler's passes in order: autodiff, memory planning, lowering to kernel IR, target checks.</summary>
public static class Pipeline
{
    /// <param name="source">Where the model came from (its file), for error messages.</param>
    /// <param name="shareMemory">Reuse arena memory between tensors whose lifetimes do not overlap (see <see cref="MemoryPlan"/>).</param>
    /// <param name="im2colBudgetBytes">Largest im2col column matrix a convolution may use (see <see cref="Autodiff.ChooseAlgorithm"/>).</param>
    public static CompiledModel Compile(Model model, Board? board = null, string? source = null, bool shareMemory = true,
        int im2colBudgetBytes = Autodiff.DefaultIm2colBudgetBytes)
    {
        if (board is not null) CheckIsa(model, board, source);
        var graph = Autodiff.Build(model, im2colBudgetBytes);
        var memory = MemoryPlan.Build(graph, shareMemory);
        if (board is not null && memory.ArenaBytes > board.RamBytes)
            throw TinyOdlException.At(source ?? $"model '{model.Name}'",
                $"the arena of model '{model.Name}' needs {memory.ArenaBytes} bytes but board '{board.Name}' has {board.RamBytes} bytes of RAM " +
                $"(largest tensors live at the peak: {string.Join(", ", memory.LiveAtPeak.Take(3).Select(t => $"{t.Name} {t.Bytes} bytes"))})");
        // Vector kernels need V, and Zvfh when they touch binary16.
        var target = new KernelTarget(board is not null && board.Has("v") && board.Has("zvfh"));
        var program = TrainingLowering.Lower(graph, memory, target);
        return new CompiledModel(model, graph, memory, program);
    }

    /// <summary>FP16 arithmetic needs Zfh; say which layer asked for it and which boards have it.</summary>
    private static void CheckIsa(Model model, Board board, string? source)
    {
        var node = model.Nodes.FirstOrDefault(n => n.Precision != Precision.Fp32);
        if (node is null || board.Has("zfh")) return;
        var withZfh = Board.Available().Where(b => b != board.Name && Board.Load(b).Has("zfh"));
        throw TinyOdlException.At(source ?? $"model '{model.Name}'",
            $"layer '{node.Name}' uses precision {node.Precision.Name()}, which needs the Zfh extension; board '{board.Name}' ({board.March}) does not have it" +
            (withZfh.Any() ? $" (boards with Zfh: {string.Join(", ", withZfh)})" : ""));
    }
}
