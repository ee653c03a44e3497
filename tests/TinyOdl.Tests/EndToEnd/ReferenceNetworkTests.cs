using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Frontends;
using TinyOdl.Graph;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;
using Xunit.Abstractions;

namespace TinyOdl.Tests.EndToEnd;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>
/// The reference networks of examples/ (ResNet8 and DS-CNN, MLPerf Tiny shapes): one training step of full training
/// in every precision, and of last-layers training, compiled with clang-19 and run under QEMU, bit-exact with the
/// C# evaluator; and the compile report with MACs per layer and pass and the memory report.
/// </summary>
public sealed class ReferenceNetworkTests(ITestOutputHelper output)
{
    public static TheoryData<string, string, string> Runs => new()
    {
        { "resnet8", "fp32", "full" }, { "resnet8", "fp16", "full" }, { "resnet8", "fp16-mixed", "full" }, { "resnet8", "fp32", "last-3" },
        { "ds-cnn", "fp32", "full" }, { "ds-cnn", "fp16", "full" }, { "ds-cnn", "fp16-mixed", "full" }, { "ds-cnn", "fp32", "last-2" },
    };

    private static string ModelPath(string net) => Path.Combine(Repo.Root, "examples", net + ".json");

    [Theory]
    [MemberData(nameof(Runs))]
    public void One_training_step_runs_on_the_device_bit_exact(string net, string precision, string policy)
    {
        var doc = JsonModelReader.Load(ModelPath(net), PrecisionExtensions.Parse(precision, "test"));
        var model = UpdatePolicy.Parse(policy, "test").Apply(doc.Model);
        // binary16 arithmetic needs Zfh: the fp16 policies run on the Zfh variant of the same machine.
        var board = Board.Load(precision == "fp32" ? "qemu-virt-rv32" : "qemu-virt-rv32-zfh");
        var compiled = Pipeline.Compile(model, board);
        var (train, test) = doc.Training.Load(compiled.Program.InputSize, compiled.Program.OutputSize);
        // One traced step and one prediction: the evaluator's share of the test time is the network's MACs.
        var plan = RunPlan.Verify(train, test, 1) with { PredictCount = 1 };
        var expected = HarnessSimulator.Run(compiled.Program, plan);

        using var tmp = new TempDir();
        var dir = tmp.File(net);
        ProjectWriter.Write(dir, compiled, board, Backend.C, plan, expected);
        var device = QemuRunner.BuildAndRun(dir, BuildCombo.Default(Backend.C));
        Assert.True(device.Succeeded, $"exit {device.ExitCode}: {QemuRunner.Tail(device.Stderr)}");
        var mismatches = Protocol.Compare(expected, device.Lines);
        Assert.True(mismatches.Count == 0, $"{net} {precision} {policy}: {mismatches.Count} mismatches:\n  " + string.Join("\n  ", mismatches.Take(10)));

        var step = device.Lines.Single(l => l.Keyword == "step");
        long macs = compiled.Program.TrainStep.Calls.Sum(c => c.Macs);
        output.WriteLine($"{net} {precision} {policy}: {step.UInt("instret"):N0} instructions per training step, {macs:N0} MACs, " +
            $"arena {compiled.Memory.ArenaBytes:N0} bytes (lower bound {compiled.Memory.LowerBoundBytes:N0}), {mismatches.Count} mismatches in {expected.Count} lines");
        Assert.True(device.Lines.Count(l => l.Keyword == "param") == model.Parameters.Count);
    }

    [Fact]
    public void Compile_reports_macs_per_layer_and_pass_and_memory()
    {
        using var tmp = new TempDir();
        var r = Cli.Run("compile", Path.Combine("examples", "ds-cnn.json"), "-o", tmp.File("ds"), "--verify-steps", "1");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var text = CliTests.CliExpect.Flat(r.Stdout);
        foreach (var fragment in new[] { "MACs per layer and pass", "pw1 │ conv2d │ 512,000 │ 512,000 │ 512,000 │ pointwise", "dw1 │ conv2d │ 72,000",
                     "weights and biases", "activations", "arena (peak", "lower bound", "Sparse update", "bias-only", "last-1" })
            Assert.Contains(fragment, text);
    }
}
