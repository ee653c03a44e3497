using TinyOdl.Codegen;
using TinyOdl.Data;
using TinyOdl.Evaluation;
using TinyOdl.Frontends;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;
using Xunit.Abstractions;

namespace TinyOdl.Tests.EndToEnd;

using Cli = TinyOdl.Tests.Support.Cli;

/// <summary>The demo (`make demo`): the digits MLP trained on the device under QEMU through the real CLI.</summary>
public sealed class DigitsDemoTests(ITestOutputHelper output)
{
    private static readonly string DigitsModel = Path.Combine("examples", "digits-mlp.json");

    private static void RequireDigitsData() =>
        Assert.True(File.Exists(Repo.DigitsCsv),
            $"{Repo.DigitsCsv} is missing: run `make data` in {Repo.Root} to download the digits data set, then run the tests again");

    [Fact]
    public void Digits_demo_trains_on_the_device_bit_exact_and_reaches_85_percent()
    {
        RequireDigitsData();
        using var tmp = new TempDir();
        var dir = tmp.File("digits-mlp-c");

        var compile = Cli.Run("compile", DigitsModel, "-o", dir);
        Assert.True(compile.ExitCode == 0, $"compile exited {compile.ExitCode}:\n{compile.Stdout}\n{compile.Stderr}");
        Assert.True(File.Exists(Path.Combine(dir, ProjectWriter.ManifestName)));
        Assert.Contains("\"mode\": \"train\"", File.ReadAllText(Path.Combine(dir, ProjectWriter.ManifestName)));

        var run = Cli.Run("run", dir);
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, $"run exited {run.ExitCode}:\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("Bit-exact against the C# evaluator: yes", Flat(run.Stdout));

        // The same folder once more through the library, to read the protocol instead of the tables
        // (already built: this only runs QEMU again).
        var device = RunAndCompare(dir);

        var epochs = device.Lines.Where(l => l.Keyword == "epoch").ToArray();
        Assert.Equal(4, epochs.Length); // "epochs": 4 in the model file
        var last = epochs[^1];
        double accuracy = (double)last.UInt("correct") / last.UInt("total");
        output.WriteLine($"final epoch: {last}; accuracy {accuracy:P1}; first step {epochs[0].UInt("instret_first"):N0} instructions");
        Assert.True(last.UInt("total") > 0);
        Assert.True(accuracy >= 0.85, $"final-epoch test accuracy {accuracy:P1} ({last.UInt("correct")}/{last.UInt("total")}) is below 85%");
        Assert.True(last.Float("loss_sum") < epochs[0].Float("loss_sum"), "the loss did not go down over the epochs");
        Assert.Equal(4, device.Lines.Count(l => l.Keyword == "param"));
    }

    [Fact]
    public void Digits_expected_output_written_by_the_CLI_equals_the_evaluator_in_process()
    {
        RequireDigitsData();
        using var tmp = new TempDir();
        var dir = tmp.File("digits-verify-mode");
        var compile = Cli.Run("compile", DigitsModel, "-o", dir, "--backend", "llvm", "--verify-steps", "5");
        Assert.True(compile.ExitCode == 0, $"compile exited {compile.ExitCode}:\n{compile.Stderr}");

        var doc = JsonModelReader.Load(Path.Combine(Repo.Root, DigitsModel));
        var compiled = Pipeline.Compile(doc.Model, Board.Load("qemu-virt-rv32"));
        var (train, test) = doc.Training.Load(compiled.Program.InputSize, compiled.Program.OutputSize);
        var expected = HarnessSimulator.Run(compiled.Program, RunPlan.Verify(train, test, 5));
        var written = Protocol.Parse(File.ReadAllText(Path.Combine(dir, ProjectWriter.ExpectedName)));
        Assert.Equal(expected.Select(l => l.ToString()), written.Select(l => l.ToString()));

        var device = QemuRunner.BuildAndRun(dir, BuildCombo.Default(Backend.Llvm));
        Assert.True(device.Succeeded, $"exit {device.ExitCode}: {device.Stderr}");
        Assert.Empty(Protocol.Compare(expected, device.Lines));
        Assert.Equal(5, device.Lines.Count(l => l.Keyword == "step"));
    }

    [Fact]
    public void Verify_command_passes_for_the_digits_model()
    {
        RequireDigitsData();
        var r = Cli.Run("verify", DigitsModel);
        output.WriteLine(r.Stdout);
        Assert.True(r.ExitCode == 0, $"verify exited {r.ExitCode}:\n{r.Stdout}\n{r.Stderr}");
        Assert.Contains("All toolchains agree with the C# evaluator bit for bit.", Flat(r.Stdout));
        foreach (var combo in BuildCombo.All)
            Assert.Contains(combo.Name, Flat(r.Stdout));
        Assert.Equal(BuildCombo.All.Count, CountOccurrences(r.Stdout, "bit-exact"));
        Assert.DoesNotContain("mismatch", r.Stdout);
    }

    /// <summary>
    /// The CNN demo: examples/digits-cnn.json (conv, max pool, conv, average pool, linear on the 8x8 images) trains on
    /// the device bit-exact with the evaluator and ends at least as accurate as the digits MLP on the same split.
    /// </summary>
    [Fact]
    public void Digits_cnn_trains_on_the_device_bit_exact_and_beats_the_mlp()
    {
        RequireDigitsData();
        using var tmp = new TempDir();
        var dir = tmp.File("digits-cnn");
        var compile = Cli.Run("compile", Path.Combine("examples", "digits-cnn.json"), "-o", dir);
        Assert.True(compile.ExitCode == 0, $"compile exited {compile.ExitCode}:\n{compile.Stdout}\n{compile.Stderr}");
        Assert.Contains("MACs per layer and pass", Flat(compile.Stdout));

        var device = RunAndCompare(dir);

        static double Final(IReadOnlyList<ProtocolLine> lines)
        {
            var last = lines.Last(l => l.Keyword == "epoch");
            return (double)last.UInt("correct") / last.UInt("total");
        }
        var mlp = JsonModelReader.Load(Path.Combine(Repo.Root, DigitsModel));
        var mlpCompiled = Pipeline.Compile(mlp.Model, Board.Load("qemu-virt-rv32"));
        var (train, test) = mlp.Training.Load(mlpCompiled.Program.InputSize, mlpCompiled.Program.OutputSize);
        double mlpAccuracy = Final(HarnessSimulator.Run(mlpCompiled.Program, RunPlan.Training(train, test, mlp.Training.Epochs)));
        double cnnAccuracy = Final(device.Lines);
        output.WriteLine($"digits test accuracy after the last epoch: CNN {cnnAccuracy:P1} on the device, MLP {mlpAccuracy:P1}");
        Assert.True(cnnAccuracy >= mlpAccuracy, $"the CNN reaches {cnnAccuracy:P1}, below the MLP's {mlpAccuracy:P1}");
    }

    /// <summary>
    /// The binary demo: examples/digits-bnn.json (a real conv, two binary convs with MST, its regularizer and batch norm, a real linear head)
    /// trains on the Zbb board (popcount is one cpop) bit-exact with the evaluator, and learns: every epoch is
    /// printed and the last one must classify most digits (10 classes: chance is 10 %).
    /// </summary>
    [Fact]
    public void Digits_bnn_trains_on_the_device_bit_exact()
    {
        RequireDigitsData();
        using var tmp = new TempDir();
        var dir = tmp.File("digits-bnn");
        var compile = Cli.Run("compile", Path.Combine("examples", "digits-bnn.json"), "--board", "qemu-virt-rv32-zbb", "-o", dir);
        Assert.True(compile.ExitCode == 0, $"compile exited {compile.ExitCode}:\n{compile.Stdout}\n{compile.Stderr}");
        Assert.Contains("xnor-popcount", compile.Stdout);

        var device = RunAndCompare(dir);
        var epochs = device.Lines.Where(l => l.Keyword == "epoch").Select(l => (double)l.UInt("correct") / l.UInt("total")).ToArray();
        output.WriteLine($"digits BNN test accuracy per epoch on the device: {string.Join(", ", epochs.Select(a => a.ToString("P1", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.True(epochs[^1] >= 0.85, $"the BNN reaches only {epochs[^1]:P1}");
    }

    /// <summary>Runs a compiled (and possibly already built) folder under QEMU and checks it against its expected.txt.</summary>
    private static DeviceRun RunAndCompare(string dir)
    {
        var device = QemuRunner.BuildAndRun(dir, BuildCombo.Default(Backend.C));
        Assert.True(device.Succeeded, $"exit {device.ExitCode}: {device.Stderr}");
        var expected = Protocol.Parse(File.ReadAllText(Path.Combine(dir, ProjectWriter.ExpectedName)));
        Assert.Empty(Protocol.Compare(expected, device.Lines));
        return device;
    }

    /// <summary>Spectre.Console wraps at 80 columns when stdout is redirected: compare with whitespace collapsed.</summary>
    private static string Flat(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"\s+", " ");

    private static int CountOccurrences(string s, string what)
    {
        int n = 0;
        for (int i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
