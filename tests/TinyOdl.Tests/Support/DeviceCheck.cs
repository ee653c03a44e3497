using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Targets;

namespace TinyOdl.Tests.Support;

/// <summary>A compiled model on the device: the C project, built and run under QEMU, against the evaluator's protocol.</summary>
internal static class DeviceCheck
{
    /// <summary>
    /// Writes <paramref name="compiled"/> as a C project into <paramref name="dir"/>, builds and runs it under QEMU (and
    /// the simulator when the suite checks it), asserts every protocol line equals the evaluator's, and returns the run.
    /// </summary>
    public static DeviceRun RunMatchesEvaluator(string dir, CompiledModel compiled, Board board, RunPlan plan)
    {
        ProjectWriter.Write(dir, compiled, board, Backend.C, plan, HarnessSimulator.Run(compiled.Program, plan));
        var device = QemuRunner.BuildAndRun(dir, BuildCombo.Default(Backend.C));
        Assert.True(device.Succeeded, device.Stderr);
        var expected = Protocol.Parse(File.ReadAllText(Path.Combine(dir, ProjectWriter.ExpectedName)));
        Assert.Empty(Protocol.Compare(expected, device.Lines));
        return device;
    }
}
