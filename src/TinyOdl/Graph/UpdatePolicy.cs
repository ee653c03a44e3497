namespace TinyOdl.Graph;

/// <summary>
/// Sparse update (which parameters train on the device), the usual on-device policies: every layer, biases only,
/// or the last k layers with parameters. Applied on top of the model's own trainable flags, which it replaces.
/// </summary>
public sealed record UpdatePolicy(UpdatePolicy.Kind Policy, int LastLayers = 0)
{
    public enum Kind { Full, BiasOnly, LastLayers }

    public static readonly UpdatePolicy Full = new(Kind.Full);
    public static readonly UpdatePolicy BiasOnly = new(Kind.BiasOnly);
    public static UpdatePolicy Last(int k) => new(Kind.LastLayers, k);

    public string Name => Policy switch
    {
        Kind.Full => "full",
        Kind.BiasOnly => "bias-only",
        _ => $"last-{LastLayers}",
    };

    /// <summary>Parses full, bias-only or last-K; errors name <paramref name="where"/>.</summary>
    public static UpdatePolicy Parse(string text, string where)
    {
        if (text == "full") return Full;
        if (text == "bias-only") return BiasOnly;
        if (text.StartsWith("last-", StringComparison.Ordinal) && int.TryParse(text[5..], out int k) && k >= 1) return Last(k);
        throw TinyOdlException.At(where, $"unknown update policy '{text}'; expected full, bias-only or last-K (K >= 1)");
    }

    /// <summary>The model with this policy's trainable flags (same weights, same graph).</summary>
    public Model Apply(Model model)
    {
        var layers = model.Nodes.Where(HasParameters).ToArray();
        if (Policy == Kind.LastLayers && LastLayers > layers.Length)
            throw TinyOdlException.At($"update policy {Name}", $"model '{model.Name}' has only {layers.Length} layers with parameters");
        var trainedLayers = Policy == Kind.LastLayers ? layers.Skip(layers.Length - LastLayers).ToHashSet() : layers.ToHashSet();
        var replaced = new Dictionary<Parameter, Parameter>();
        // isBias: the additive parameter (a bias, a batch norm's shift), which bias-only keeps training.
        Parameter Re(Parameter p, Node layer, bool isBias) =>
            replaced[p] = new Parameter(p.Value, p.Initial.ToArray(), Policy == Kind.BiasOnly ? isBias : trainedLayers.Contains(layer));
        Parameter? ReOptional(Parameter? p, Node layer, bool isBias) => p is null ? null : Re(p, layer, isBias);
        var nodes = model.Nodes.Select(n => n switch
        {
            LinearNode l => l with { Weight = Re(l.Weight, l, false), Bias = ReOptional(l.Bias, l, true) },
            Conv2dNode c => c with { Weight = Re(c.Weight, c, false), Bias = ReOptional(c.Bias, c, true) },
            BinaryConv2dNode c => c with { Weight = Re(c.Weight, c, false), Bias = ReOptional(c.Bias, c, true) },
            BinaryLinearNode l => l with { Weight = Re(l.Weight, l, false), Bias = ReOptional(l.Bias, l, true) },
            PhmLinearNode l => l with { A = Re(l.A, l, false), F = Re(l.F, l, false), Bias = ReOptional(l.Bias, l, true) },
            PhmConv2dNode c => c with { A = Re(c.A, c, false), F = Re(c.F, c, false), Bias = ReOptional(c.Bias, c, true) },
            BatchNormNode b => (Node)(b with { Scale = Re(b.Scale, b, false), Shift = Re(b.Shift, b, true) }),
            _ => n,
        }).ToArray();
        var parameters = model.Parameters.Select(p => replaced.TryGetValue(p, out var r) ? r : p).ToArray();
        return new Model(model.Name, model.Input, model.Target, parameters, nodes, model.Loss, model.Optimizer);
    }

    /// <summary>Layers with learnable parameters, the unit of last-K.</summary>
    public static bool HasParameters(Node n) => n is LinearNode or Conv2dNode or BinaryLayerNode or PhmLayerNode or BatchNormNode;

    /// <summary>The policies worth comparing for a model: full, bias-only and last-1 .. last-(layers - 1).</summary>
    public static IReadOnlyList<UpdatePolicy> All(Model model)
    {
        int layers = model.Nodes.Count(HasParameters);
        return [Full, BiasOnly, .. Enumerable.Range(1, Math.Max(0, layers - 1)).Reverse().Select(Last)];
    }
}
