using TinyOdl.Simulation;
using TinyOdl.Simulation.Timing;

namespace TinyOdl.Tests.Simulation.Timing;

/// <summary>Runs one snippet of an <see cref="AsmSuite"/> on the simulator with a cycle model as the retire observer.</summary>
internal static class TimingHarness
{
    public static readonly CycleModelParameters Cv = CycleModelParameters.Cv32e40p;

    public static InOrderPipelineModel Time(AsmSuite suite, string snippet, CycleModelParameters? parameters = null, int vlen = 128)
    {
        using var stdout = new MemoryStream();
        var machine = new Machine(AsmSuite.Config(vlen), stdout, Stream.Null);
        machine.Load(suite.Program);
        machine.Hart.Pc = suite.Label(snippet);
        machine.Hart.Csr.TryWrite(Csr.Mstatus, Csr.MstatusFs | Csr.MstatusVs);
        var model = new InOrderPipelineModel(parameters ?? Cv, vlen);
        var outcome = new Executor(machine).Run(100_000, model);
        Assert.True(outcome.Kind == StopKind.Halted, $"{snippet}: stopped with {outcome.Kind}: {outcome.Report}");
        Assert.Equal((long)outcome.Instret, model.Instructions);
        return model;
    }
}
