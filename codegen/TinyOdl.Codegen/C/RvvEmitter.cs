using System.Text;
using TinyOdl.Kernels;

namespace TinyOdl.Codegen.C;

/// <summary>
/// Emits a lanes loop (<see cref="For.Lanes"/>) as RVV 1.0 intrinsics, strip-mined with vsetvl. Every lane
/// performs its iteration's scalar operations with the same rounding (vfmacc and vfwmacc are fused like fma;
/// widening is exact), so the vector kernel is bit-identical to the scalar one. Element groups: in loops with
/// binary16, binary16 at LMUL 2 and binary32 at LMUL 4 (the same element count, one vsetvl for both; twice the lanes
/// of binary32-only loops, which use LMUL 2). The LLVM IR backend uses the same groups.
/// </summary>
internal sealed class RvvEmitter
{
    private readonly LaneAnalysis _lanes;
    private readonly string _half = "f16m2";
    private readonly string _single;
    private readonly string _mask;             // SEW/LMUL of the groups: 8 with binary16, 16 without
    private readonly string _vsetvl;

    private RvvEmitter(For loop)
    {
        _lanes = new LaneAnalysis(loop);
        _single = _lanes.HasHalf ? "f32m4" : "f32m2";
        _mask = _lanes.HasHalf ? "b8" : "b16";
        _vsetvl = _lanes.HasHalf ? "__riscv_vsetvl_e16m2" : "__riscv_vsetvl_e32m2";
    }

    public static void Emit(StringBuilder sb, For loop, int depth, Func<Expr, string> scalar)
    {
        var e = new RvvEmitter(loop);
        var pad = new string(' ', depth * 4);
        var i = loop.Index.Name;
        sb.AppendLine($"{pad}for (int32_t {i} = {scalar(loop.From)}; {i} < {scalar(loop.To)}; ) {{");
        sb.AppendLine($"{pad}    size_t vl = {e._vsetvl}((size_t)({scalar(loop.To)} - {i}));");
        e.Block(sb, loop.Body, depth + 1, scalar);
        sb.AppendLine($"{pad}    {i} += (int32_t)vl;");
        sb.AppendLine($"{pad}}}");
    }

    private string Group(ScalarType t) => t == ScalarType.F16 ? _half : _single;
    private static string Sew(ScalarType t) => t == ScalarType.F16 ? "16" : "32";
    private string VectorType(ScalarType t) => $"vfloat{Sew(t)}{Group(t)[3..]}_t";
    private static string ScalarType_(ScalarType t) => t == ScalarType.F16 ? "_Float16" : "float";

    private void Block(StringBuilder sb, IReadOnlyList<Stmt> body, int depth, Func<Expr, string> scalar)
    {
        var pad = new string(' ', depth * 4);
        foreach (var s in body)
        {
            switch (s)
            {
                case Declare d when _lanes.IsVaryingLocal(d.Local):
                    sb.AppendLine($"{pad}{VectorType(d.Local.Type)} {d.Local.Name} = {Vector(d.Init, scalar)};");
                    break;
                case Assign a when _lanes.IsVaryingLocal(a.Local):
                    sb.AppendLine($"{pad}{a.Local.Name} = {Vector(a.Value, scalar)};");
                    break;
                case Declare d:
                    sb.AppendLine($"{pad}{CTypeOf(d.Local.Type)} {d.Local.Name} = {scalar(d.Init)};");
                    break;
                case Assign a:
                    sb.AppendLine($"{pad}{a.Local.Name} = {scalar(a.Value)};");
                    break;
                case Store st:
                {
                    var t = st.Buffer.Element;
                    int stride = _lanes.Stride(st.Index);
                    var value = Vector(st.Value, scalar);
                    var address = $"&{st.Buffer.Name}[{scalar(st.Index)}]";
                    sb.AppendLine(stride == 1
                        ? $"{pad}__riscv_vse{Sew(t)}_v_{Group(t)}({address}, {value}, vl);"
                        : $"{pad}__riscv_vsse{Sew(t)}_v_{Group(t)}({address}, {stride * t.SizeInBytes()}, {value}, vl);");
                    break;
                }
                case For f:
                    sb.AppendLine($"{pad}for (int32_t {f.Index.Name} = {scalar(f.From)}; {f.Index.Name} < {scalar(f.To)}; {f.Index.Name}++) {{");
                    Block(sb, f.Body, depth + 1, scalar);
                    sb.AppendLine($"{pad}}}");
                    break;
                default:
                    throw new NotSupportedException($"RVV backend: statement {s.GetType().Name}");
            }
        }
    }

    private static string CTypeOf(ScalarType t) => t switch
    {
        ScalarType.F32 => "float",
        ScalarType.F16 => "_Float16",
        _ => "int32_t",
    };

    /// <summary>The expression as a vector value (uniform values are splatted).</summary>
    private string Vector(Expr e, Func<Expr, string> scalar)
    {
        if (!_lanes.IsVarying(e)) return Splat(scalar(e), e.Type);
        var t = e.Type;
        var g = Group(t);
        switch (e)
        {
            case LocalRef r: return r.Local.Name;
            case Load l:
            {
                int stride = _lanes.Stride(l.Index);
                var address = $"&{l.Buffer.Name}[{scalar(l.Index)}]";
                return stride == 1
                    ? $"__riscv_vle{Sew(t)}_v_{g}({address}, vl)"
                    : $"__riscv_vlse{Sew(t)}_v_{g}({address}, {stride * t.SizeInBytes()}, vl)";
            }
            case Binary b:
            {
                string op = b.Op switch
                {
                    BinaryOp.Add => "vfadd",
                    BinaryOp.Sub => "vfsub",
                    BinaryOp.Mul => "vfmul",
                    BinaryOp.Div => "vfdiv",
                    _ => throw new NotSupportedException($"RVV backend: {b.Op}"),
                };
                bool lv = _lanes.IsVarying(b.Left), rv = _lanes.IsVarying(b.Right);
                if (lv && rv) return $"__riscv_{op}_vv_{g}({Vector(b.Left, scalar)}, {Vector(b.Right, scalar)}, vl)";
                if (lv) return $"__riscv_{op}_vf_{g}({Vector(b.Left, scalar)}, {scalar(b.Right)}, vl)";
                // uniform op varying: commutative ops swap; sub and div have reversed forms (s - v, s / v).
                string rop = b.Op switch { BinaryOp.Sub => "vfrsub", BinaryOp.Div => "vfrdiv", _ => op };
                return $"__riscv_{rop}_vf_{g}({Vector(b.Right, scalar)}, {scalar(b.Left)}, vl)";
            }
            case Fma f:
            {
                // f32 accumulator fed by two widened binary16 operands: one widening fused multiply-add.
                if (t == ScalarType.F32 && f.A is Kernels.Convert { Op: ConvertOp.Extend } wa && f.B is Kernels.Convert { Op: ConvertOp.Extend } wb)
                    return MultiplyAccumulate("vfwmacc", g, f.C, wa.Operand, wb.Operand, scalar);
                return MultiplyAccumulate("vfmacc", g, f.C, f.A, f.B, scalar);
            }
            case Select s:
            {
                var mask = Mask((Compare)s.Condition, scalar);
                return $"__riscv_vmerge_vvm_{g}({Vector(s.IfFalse, scalar)}, {Vector(s.IfTrue, scalar)}, {mask}, vl)";
            }
            case Kernels.Convert { Op: ConvertOp.Extend } c: return $"__riscv_vfwcvt_f_f_v_{_single}({Vector(c.Operand, scalar)}, vl)";
            case Kernels.Convert { Op: ConvertOp.Truncate } c: return $"__riscv_vfncvt_f_f_w_{_half}({Vector(c.Operand, scalar)}, vl)";
            default: throw new NotSupportedException($"RVV backend: varying {e.GetType().Name}");
        }
    }

    /// <summary>acc + a*b, fused; a uniform operand uses the .vf form (the scalar is the first factor).</summary>
    private string MultiplyAccumulate(string op, string g, Expr acc, Expr a, Expr b, Func<Expr, string> scalar)
    {
        var c = Vector(acc, scalar);
        bool av = _lanes.IsVarying(a), bv = _lanes.IsVarying(b);
        if (av && bv) return $"__riscv_{op}_vv_{g}({c}, {Vector(a, scalar)}, {Vector(b, scalar)}, vl)";
        if (bv) return $"__riscv_{op}_vf_{g}({c}, {scalar(a)}, {Vector(b, scalar)}, vl)";
        if (av) return $"__riscv_{op}_vf_{g}({c}, {scalar(b)}, {Vector(a, scalar)}, vl)";
        return $"__riscv_{op}_vv_{g}({c}, {Vector(a, scalar)}, {Vector(b, scalar)}, vl)";
    }

    private string Mask(Compare c, Func<Expr, string> scalar)
    {
        var t = c.Left.Type;
        var g = Group(t);
        string op = c.Op switch
        {
            CompareOp.Lt => "vmflt",
            CompareOp.Le => "vmfle",
            CompareOp.Gt => "vmfgt",
            CompareOp.Ge => "vmfge",
            CompareOp.Eq => "vmfeq",
            _ => "vmfne",
        };
        if (!_lanes.IsVarying(c.Right))
            return $"__riscv_{op}_vf_{g}_{_mask}({Vector(c.Left, scalar)}, {scalar(c.Right)}, vl)";
        return $"__riscv_{op}_vv_{g}_{_mask}({Vector(c.Left, scalar)}, {Vector(c.Right, scalar)}, vl)";
    }

    private string Splat(string value, ScalarType t) => $"__riscv_vfmv_v_f_{Group(t)}(({ScalarType_(t)}){value}, vl)";
}
