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
    public static CompiledModel Compile(Model model, Board? board = null)
    {
        var graph = Autodiff.Build(model);
        var memory = MemoryPlan.Build(graph);
        if (board is not null && memory.ArenaBytes > board.RamBytes)
            throw TinyOdlException.At($"model '{model.Name}'",
                $"the arena needs {memory.ArenaBytes} bytes but board '{board.Name}' has {board.RamBytes} bytes of RAM");
        var program = TrainingLowering.Lower(graph, memory);
        return new CompiledModel(model, graph, memory, program);
    }
}
