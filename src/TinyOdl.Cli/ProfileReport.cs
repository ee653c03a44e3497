using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using TinyOdl.Graph;
using TinyOdl.Kernels;

namespace TinyOdl.Cli;

/// <summary>
/// One kernel call of the training step (a layer and a pass), per call: MACs from shapes, instructions measured under
/// QEMU and on the simulator (region markers' cost subtracted), cycles from the board's cycle model.
/// </summary>
/// <param name="BitMacs">The MACs are 1-bit (XNOR-popcount), measured against the board's binary peak; totals leave them out.</param>
internal sealed record ProfileRow(string Layer, string Pass, string Region, string Kernel, string Precision, long Macs,
    double QemuInstructions, double SimInstructions, double Cycles, double PeakMacsPerCycle, bool BitMacs = false)
{
    public double CyclesPerInstruction => SimInstructions > 0 ? Cycles / SimInstructions : 0;
    public double MacsPerCycle => Cycles > 0 ? Macs / Cycles : 0;
    public double PeakShare => PeakMacsPerCycle > 0 ? MacsPerCycle / PeakMacsPerCycle : 0;
}

/// <summary>Sums over the rows, and the whole training step (train_step call to return) without the markers' cost.</summary>
internal sealed record ProfileTotals(long Macs, double QemuInstructions, double SimInstructions, double Cycles, double PeakMacsPerCycle)
{
    public double MacsPerCycle => Cycles > 0 ? Macs / Cycles : 0;
    public double PeakShare => PeakMacsPerCycle > 0 ? MacsPerCycle / PeakMacsPerCycle : 0;
}

internal sealed record ProfileStep(double Instructions, double Cycles, long ClockHz, long Macs, double PeakMacsPerCycle)
{
    public double Seconds => Cycles / ClockHz;
    public double MacsPerCycle => Cycles > 0 ? Macs / Cycles : 0;
    public double PeakShare => PeakMacsPerCycle > 0 ? MacsPerCycle / PeakMacsPerCycle : 0;
}

/// <summary>Everything `tinyodl profile` reports, and its CSV and JSON forms.</summary>
internal sealed record ProfileReport(
    string Model,
    string Board,
    int Vlen,
    string Precision,
    string Build,
    int Steps,
    IReadOnlyDictionary<string, int> CycleModel,
    double PeakFp32,
    double PeakFp16,
    long MarkerInstructions,
    long MarkerCycles,
    IReadOnlyList<ProfileRow> Rows,
    ProfileTotals Totals,
    ProfileStep TrainingStep,
    bool QemuMatchesSimulator,
    bool BitExact)
{
    /// <summary>How `profile` names a pass.</summary>
    public static string PassName(Pass pass) => pass switch
    {
        Pass.Forward => "forward",
        Pass.Loss => "loss",
        Pass.WeightGradient => "weight gradient",
        Pass.InputGradient => "input gradient",
        Pass.Backward => "backward",
        Pass.Update => "optimizer",
        _ => "other",
    };

    /// <summary>The layer a training op belongs to: the longest model node name its name starts with, else the op itself (casts of the input, the loss).</summary>
    public static Node? LayerOf(string region, IReadOnlyList<Node> nodes) =>
        nodes.Where(n => region == n.Name || region.StartsWith(n.Name + "_", StringComparison.Ordinal))
            .MaxBy(n => n.Name.Length);

    /// <summary>Peak MACs per cycle for a layer of this precision: fp16 MACs at the fp16 rate; fp16-mixed accumulates in fp32.</summary>
    public static double Peak(Precision precision, double fp32, double fp16) => precision == Graph.Precision.Fp16 ? fp16 : fp32;

    /// <summary>"198.0 µs", "12.34 ms", "1.141 s".</summary>
    public static string Duration(double seconds) => seconds switch
    {
        < 1e-2 => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e6:N1} µs"),
        < 10 => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e3:N2} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds:N3} s"),
    };

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>One line per layer and pass (no total rows: those are in the JSON and the console table).</summary>
    public void WriteCsv(string path)
    {
        var lines = new List<string>
        {
            "region,kernel,macs,instructions,layer,pass,precision,sim_instructions,cycles,cycles_per_instruction,macs_per_cycle,peak_macs_per_cycle,peak_share,mac_kind",
        };
        lines.AddRange(Rows.Select(r => string.Join(",",
            r.Region, r.Kernel, r.Macs.ToString(CultureInfo.InvariantCulture), F(r.QemuInstructions, "F0"), r.Layer, r.Pass, r.Precision,
            F(r.SimInstructions, "F0"), F(r.Cycles, "F0"), F(r.CyclesPerInstruction, "F4"), F(r.MacsPerCycle, "F6"),
            F(r.PeakMacsPerCycle, "G"), F(r.PeakShare, "F6"), r.BitMacs ? "1-bit" : "float")));
        File.WriteAllLines(path, lines);
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public void WriteJson(string path)
    {
        var doc = new
        {
            Model,
            Board,
            Vlen = Vlen > 0 ? Vlen : (int?)null,
            Precision,
            Build,
            StepsAveraged = Steps,
            ClockHz = TrainingStep.ClockHz,
            CycleModel,
            PeakMacsPerCycle = new { Fp32 = PeakFp32, Fp16 = PeakFp16 },
            RegionMarkers = new { Instructions = MarkerInstructions, Cycles = MarkerCycles },
            Rows = Rows.Select(r => new
            {
                r.Layer, r.Pass, r.Region, r.Kernel, r.Precision, r.Macs, r.QemuInstructions, r.SimInstructions, r.Cycles,
                r.CyclesPerInstruction, r.MacsPerCycle, r.PeakMacsPerCycle, r.PeakShare, MacKind = r.BitMacs ? "1-bit" : "float",
            }),
            Totals = new { Totals.Macs, Totals.QemuInstructions, Totals.SimInstructions, Totals.Cycles, Totals.MacsPerCycle, Totals.PeakShare },
            TrainingStep = new
            {
                TrainingStep.Instructions, TrainingStep.Cycles, TrainingStep.Seconds, TrainingStep.Macs, TrainingStep.MacsPerCycle,
                TrainingStep.PeakShare,
            },
            QemuMatchesSimulator,
            BitExact,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(doc, Json) + "\n");
    }
}
