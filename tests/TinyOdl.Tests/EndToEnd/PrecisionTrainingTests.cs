using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
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

/// <summary>The digits MLP trained with one precision policy: the evaluator's epochs and one device run.</summary>
public sealed class DigitsTraining
{
    public required string Policy { get; init; }
    public CompiledModel? Compiled { get; set; }
    public RunPlan? Plan { get; set; }
    public int FileEpochs { get; set; }
    public IReadOnlyList<ProtocolLine> Expected { get; set; } = [];
    public TimeSpan EvaluatorTime { get; set; }
    public DeviceRun? Run { get; set; }
    public TimeSpan DeviceTime { get; set; }
    public Exception? Error { get; set; }
}

/// <summary>
/// examples/digits-mlp.json for each precision policy on qemu-virt-rv32-zvfh (VLEN 128, the demo configuration):
/// Pipeline.Compile, HarnessSimulator.Run over the file's training plan (4 epochs), then ProjectWriter for the C
/// backend and QemuRunner.BuildAndRun with the default combination (clang-19 -O2, normal flags). Policies run in parallel.
/// </summary>
public sealed class PrecisionDigitsFixture : IDisposable
{
    public const string BoardName = PrecisionMatrix.ZvfhBoard;
    public static readonly string ModelFile = Path.Combine(Repo.Root, "examples", "digits-mlp.json");
    private readonly TempDir _root = new();

    public PrecisionDigitsFixture()
    {
        if (!File.Exists(Repo.DigitsCsv)) return; // every test says what to do
        Parallel.ForEach(Runs.Values, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, Train);
    }

    public ConcurrentDictionary<string, DigitsTraining> Runs { get; } =
        new(PrecisionExtensions.Names.Select(p => KeyValuePair.Create(p, new DigitsTraining { Policy = p })));

    public string FolderOf(string policy) => Path.Combine(_root.Path, "digits-" + policy);

    private void Train(DigitsTraining t)
    {
        try
        {
            var sw = Stopwatch.StartNew();
            var doc = JsonModelReader.Load(ModelFile, PrecisionExtensions.Parse(t.Policy, "policy"));
            var board = Board.Load(BoardName);
            var compiled = Pipeline.Compile(doc.Model, board, ModelFile);
            var (train, test) = doc.Training.Load(compiled.Program.InputSize, compiled.Program.OutputSize);
            t.FileEpochs = doc.Training.Epochs;
            t.Compiled = compiled;
            t.Plan = RunPlan.Training(train, test, doc.Training.Epochs);
            t.Expected = HarnessSimulator.Run(compiled.Program, t.Plan);
            t.EvaluatorTime = sw.Elapsed;

            sw.Restart();
            ProjectWriter.Write(FolderOf(t.Policy), compiled, board, Backend.C, t.Plan, t.Expected);
            t.Run = QemuRunner.BuildAndRun(FolderOf(t.Policy), BuildCombo.Default(Backend.C));
            t.DeviceTime = sw.Elapsed;
        }
        catch (Exception e)
        {
            t.Error = e;
        }
    }

    public void Dispose() => _root.Dispose();
}

/// <summary>
/// Training sanity per precision: the digits MLP reaches 85% test accuracy in fp32, fp16 and fp16-mixed on the
/// evaluator, and the device (zvfh board, C backend, default combination) reproduces every epoch bit for bit.
/// </summary>
public sealed class PrecisionTrainingTests(PrecisionDigitsFixture fixture, ITestOutputHelper output) : IClassFixture<PrecisionDigitsFixture>
{
    public static IEnumerable<object[]> Policies() => PrecisionExtensions.Names.Select(p => new object[] { p });

    private DigitsTraining Get(string policy)
    {
        Assert.True(File.Exists(Repo.DigitsCsv),
            $"{Repo.DigitsCsv} is missing: run `make data` in {Repo.Root} to download the digits data set, then run the tests again");
        var t = fixture.Runs[policy];
        Assert.True(t.Error is null || t.Compiled is not null && t.Expected.Count > 0, $"digits ({policy}): {t.Error}");
        return t;
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void The_evaluator_trains_the_digits_MLP_to_85_percent(string policy)
    {
        var t = Get(policy);
        Assert.All(t.Compiled!.Model.Nodes, n => Assert.Equal(policy, n.Precision.Name()));
        Assert.Equal(4, t.FileEpochs); // "epochs": 4 in the model file
        var epochs = t.Expected.Where(l => l.Keyword == "epoch").ToArray();
        Assert.Equal(t.FileEpochs, epochs.Length);

        var report = new StringBuilder($"digits_mlp ({policy}) on the C# evaluator, {t.Plan!.Train.Count} training / {t.Plan.Test.Count} test samples, {t.EvaluatorTime.TotalSeconds:F1} s:\n");
        foreach (var e in epochs)
            report.AppendLine($"  epoch {e.Fields[0]}: loss_sum {e.Float("loss_sum"),9:F3}  correct {e.UInt("correct")}/{e.UInt("total")} = {(double)e.UInt("correct") / e.UInt("total"):P1}");
        output.WriteLine(report.ToString());

        var last = epochs[^1];
        Assert.Equal((ulong)t.Plan.Test.Count, last.UInt("total"));
        Assert.True(last.UInt("total") > 0);
        double accuracy = (double)last.UInt("correct") / last.UInt("total");
        Assert.True(accuracy >= 0.85, $"digits ({policy}): final-epoch test accuracy {accuracy:P1} ({last.UInt("correct")}/{last.UInt("total")}) is below 85%");
        Assert.True(float.IsFinite(last.Float("loss_sum")), $"digits ({policy}): loss sum {last.Float("loss_sum")}");
        Assert.True(last.Float("loss_sum") < epochs[0].Float("loss_sum"), $"digits ({policy}): the loss did not go down over the epochs");
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void The_device_reproduces_every_epoch_bit_for_bit(string policy)
    {
        var t = Get(policy);
        Assert.True(t.Error is null, $"digits ({policy}) on {PrecisionDigitsFixture.BoardName}: {t.Error}");
        var run = t.Run!;
        Assert.Equal(BuildCombo.Default(Backend.C), run.Combo);
        Assert.True(run.Succeeded, $"digits ({policy}): program failed with exit status {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var mismatches = Protocol.Compare(t.Expected, run.Lines);
        Assert.True(mismatches.Count == 0,
            $"digits ({policy}) on {PrecisionDigitsFixture.BoardName} with {run.Combo.Name}: {mismatches.Count} mismatches:\n  " + string.Join("\n  ", mismatches.Take(20)));

        var epochs = run.Lines.Where(l => l.Keyword == "epoch").ToArray();
        Assert.Equal(t.FileEpochs, epochs.Length);
        var report = new StringBuilder($"digits_mlp ({policy}) on {PrecisionDigitsFixture.BoardName} (VLEN 128), {run.Combo.Name}, build+run {t.DeviceTime.TotalSeconds:F1} s:\n");
        foreach (var e in epochs)
        {
            Assert.InRange(e.UInt("instret_first"), e.UInt("instret_min"), e.UInt("instret_max"));
            Assert.True(e.UInt("instret_min") > 0);
            report.AppendLine($"  epoch {e.Fields[0]}: instructions per step first {e.UInt("instret_first"):N0}, min {e.UInt("instret_min"):N0}, max {e.UInt("instret_max"):N0}");
        }
        output.WriteLine(report.ToString());

        // The demo configuration really is vector code, and binary16 where the policy says so.
        var modelC = File.ReadAllText(Path.Combine(fixture.FolderOf(policy), "model.c"));
        Assert.Contains("__riscv_vsetvl", modelC);
        Assert.Equal(policy != "fp32", modelC.Contains("_Float16", StringComparison.Ordinal));
        Assert.Equal(policy == "fp16-mixed", modelC.Contains("__riscv_vfwmacc", StringComparison.Ordinal));
    }

    [Fact]
    public void The_three_policies_train_differently_from_the_same_initial_weights()
    {
        var runs = PrecisionExtensions.Names.Select(Get).ToArray();
        var sums = runs.Select(t => t.Expected.First(l => l.Keyword == "epoch").Field("loss_sum")).ToArray();
        Assert.Equal(3, sums.Distinct().Count());
        // Same draws: the binary16 initial weights are the binary32 ones rounded to nearest even.
        var fp32 = runs[0].Compiled!.Model.Parameters;
        foreach (var t in runs.Skip(1))
            foreach (var (p32, p16) in fp32.Zip(t.Compiled!.Model.Parameters))
                Assert.Equal(p32.Initial.Select(ModelBuilderRound), p16.Initial);
    }

    /// <summary>The command of the README: every toolchain that can build the demo agrees with the evaluator, VLEN 256.</summary>
    [Fact]
    public void Verify_command_passes_for_the_digits_MLP_in_fp16_mixed_with_VLEN_256()
    {
        Assert.True(File.Exists(Repo.DigitsCsv), $"{Repo.DigitsCsv} is missing: run `make data` in {Repo.Root}, then run the tests again");
        var r = Cli.Run("verify", Path.Combine("examples", "digits-mlp.json"), "--board", PrecisionDigitsFixture.BoardName,
            "--precision", "fp16-mixed", "--vlen", "256");
        output.WriteLine(r.Stdout);
        Assert.True(r.ExitCode == 0, $"verify exited {r.ExitCode}:\n{r.Stdout}\n{r.Stderr}");
        var flat = System.Text.RegularExpressions.Regex.Replace(r.Stdout, @"\s+", " ");
        Assert.Contains("All toolchains agree with the C# evaluator bit for bit.", flat);
        Assert.Contains("(fp16-mixed)", flat);
        Assert.Contains(PrecisionDigitsFixture.BoardName, flat);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(flat, "bit-exact").Count); // clang -O2, clang -O3, LLVM IR
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(flat, "skipped: GCC 12 has no _Float16 for RISC-V").Count);
        Assert.DoesNotContain("mismatch", r.Stdout);
    }

    private static float ModelBuilderRound(float v) =>
        BitConverter.UInt32BitsToSingle(TinyOdl.Numerics.Binary16.ToSingle(TinyOdl.Numerics.Binary16.FromSingle(BitConverter.SingleToUInt32Bits(v))));
}
