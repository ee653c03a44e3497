using System.Text.Json;
using System.Text.Json.Nodes;
using TinyOdl.Simulation.Timing;
using TinyOdl.Targets;
using TinyOdl.Tests.CliTests;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Simulation.Timing;

/// <summary>
/// The board description carries the cycle model (<c>cycle_model</c>: a preset and parameter overrides) and the
/// peak MACs per cycle; bad values are errors that name the field.
/// </summary>
public sealed class BoardCycleModelTests
{
    [Theory]
    [InlineData("qemu-virt-rv32")]
    [InlineData("qemu-virt-rv32-zfh")]
    [InlineData("qemu-virt-rv32-zvfh")]
    public void Every_board_states_a_cycle_model_a_peak_and_a_clock(string name)
    {
        var board = Board.Load(name);
        Assert.NotNull(board.CycleModel);
        Assert.NotNull(board.PeakMacsPerCycle);
        Assert.True(board.ClockHz > 0);
        // The stated peak is what the model can sustain: one scalar FMA per cycle, or the vector lanes' FMAs.
        Assert.Equal(board.CycleModel.PeakMacsPerCycle(32, board.HasVector), board.PeakMacsPerCycle.Fp32);
        Assert.Equal(board.CycleModel.PeakMacsPerCycle(16, board.HasVector), board.PeakMacsPerCycle.Fp16);
    }

    [Fact]
    public void The_scalar_boards_use_the_cv32e40p_preset_unchanged()
    {
        Assert.Equal(CycleModelParameters.Cv32e40p, Board.Load("qemu-virt-rv32").CycleModel);
        Assert.Equal(CycleModelParameters.Cv32e40p, Board.Load("qemu-virt-rv32-zfh").CycleModel);
    }

    private static CycleModelParameters Parse(string json) =>
        CycleModelParameters.Parse(JsonDocument.Parse(json).RootElement, "board.json: cycle_model");

    [Fact]
    public void Parameters_override_the_preset()
    {
        var p = Parse("""{"preset": "cv32e40p", "parameters": {"vector_lanes": 8, "fpu_addmul_lat": 2}}""");
        Assert.Equal(CycleModelParameters.Cv32e40p with { VectorLanes = 8, FpuAddmulLat = 2 }, p);
        Assert.Equal(16, p.PeakMacsPerCycle(16, vector: true));
    }

    [Fact]
    public void Without_a_preset_every_parameter_is_given()
    {
        var all = CycleModelParameters.Cv32e40p.ToDictionary();
        var json = new JsonObject { ["parameters"] = new JsonObject(all.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)(kv.Key == "div_cycles" ? kv.Value + 1 : kv.Value)))) };
        var p = Parse(json.ToJsonString());
        Assert.Equal(CycleModelParameters.Cv32e40p.DivCycles + 1, p.DivCycles);
        Assert.Equal(all.Count, p.ToDictionary().Count);

        var e = Assert.Throws<TinyOdlException>(() => Parse("""{"parameters": {"alu_cycles": 1}}"""));
        Assert.Contains("cycle_model.parameters", e.Message);
        Assert.Contains("missing", e.Message);
        Assert.Contains("branch_taken_cycles", e.Message);
    }

    [Theory]
    [InlineData("""{"preset": "cv32e20"}""", "cycle_model.preset", "cv32e40p")]
    [InlineData("""{"preset": "cv32e40p", "parameters": {"branch_cycles": 2}}""", "cycle_model.parameters.branch_cycles", "unknown")]
    [InlineData("""{"preset": "cv32e40p", "parameters": {"div_cycles": 0}}""", "cycle_model.parameters.div_cycles", "between 1")]
    [InlineData("""{"preset": "cv32e40p", "parameters": {"load_use_penalty": -1}}""", "cycle_model.parameters.load_use_penalty", "between 0")]
    [InlineData("""{"preset": "cv32e40p", "parameters": {"vector_lanes": 2.5}}""", "cycle_model.parameters.vector_lanes", "whole number")]
    [InlineData("""{"preset": "cv32e40p", "parameters": {"vector_lane_bits": 48}}""", "cycle_model.parameters.vector_lane_bits", "power of two")]
    [InlineData("""{"preset": "cv32e40p", "latencies": {}}""", "cycle_model.latencies", "unknown field")]
    [InlineData("""[1, 2]""", "cycle_model", "object")]
    public void Bad_cycle_models_name_the_field(string json, string field, string reason)
    {
        var e = Assert.Throws<TinyOdlException>(() => Parse(json));
        Assert.Contains(field, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Theory]
    [InlineData("""{"fp32": 1}""", "peak_macs_per_cycle.fp16", "missing")]
    [InlineData("""{"fp32": 0, "fp16": 1}""", "peak_macs_per_cycle.fp32", "positive")]
    [InlineData("""{"fp32": 1, "fp16": "8"}""", "peak_macs_per_cycle.fp16", "positive")]
    [InlineData("""{"fp32": 1, "fp16": 1, "bf16": 2}""", "peak_macs_per_cycle.bf16", "unknown field")]
    public void Bad_peaks_name_the_field(string json, string field, string reason)
    {
        var e = Assert.Throws<TinyOdlException>(() => PeakMacs.Parse(JsonDocument.Parse(json).RootElement, "board.json: peak_macs_per_cycle"));
        Assert.Contains(field, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Theory]
    [InlineData("cycle_model", """{"preset": "cv32e40p", "parameters": {"mulh_cycles": "five"}}""", "cycle_model.parameters.mulh_cycles")]
    [InlineData("peak_macs_per_cycle", """{"fp32": -1, "fp16": 1}""", "peak_macs_per_cycle.fp32")]
    [InlineData("clock_hz", "0", "clock_hz")]
    public void The_cli_reports_a_broken_board_in_one_line(string field, string value, string fragment)
    {
        using var home = new TinyRamHome();
        var json = Path.Combine(home.Home, "boards", TinyRamHome.BoardName, "board.json");
        var doc = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        doc[field] = JsonNode.Parse(value);
        File.WriteAllText(json, doc.ToJsonString());

        var r = Support.Cli.Run(home.Home, home.Env, "profile", Path.Combine(Repo.Examples, "digits-mlp.json"), "--board", TinyRamHome.BoardName);
        CliExpect.UserError(r, json, fragment);
    }
}
