using System.Runtime.CompilerServices;
using TinyOdl.Kernels;
using TinyOdl.Numerics;

namespace TinyOdl.Evaluation;

/// <summary>
/// Turns kernel IR into a tree of .NET delegates (closure compilation). Float arithmetic is C#'s IEEE binary32
/// arithmetic, which the JIT never contracts; <see cref="Fma"/> is <see cref="MathF.FusedMultiplyAdd"/>.
/// NaN results are canonicalized to RISC-V's quiet NaN (0x7fc00000), as the F extension specifies.
/// </summary>
internal sealed class KernelCompiler
{
    private readonly Dictionary<Local, int> _slots = new();
    private readonly Stack<Dictionary<Local, int>> _scopes = new();
    private int _slotCount;
    private readonly Dictionary<BufferParam, int> _params = new();

    private KernelCompiler(IReadOnlyList<BufferParam> parameters)
    {
        for (int i = 0; i < parameters.Count; i++) _params[parameters[i]] = i;
    }

    public static CompiledKernel Compile(Kernel kernel)
    {
        var c = new KernelCompiler(kernel.Parameters);
        var body = c.Block(kernel.Body);
        return new CompiledKernel(kernel, body, c._slotCount);
    }

    private int Slot(Local l)
    {
        if (_scopes.Count > 0 && _scopes.Peek().TryGetValue(l, out int scoped)) return scoped;
        if (!_slots.TryGetValue(l, out int s)) _slots[l] = s = _slotCount++;
        return s;
    }

    private Action<Frame> Block(IReadOnlyList<Stmt> stmts)
    {
        var actions = stmts.Select(Statement).ToArray();
        if (actions.Length == 1) return actions[0];
        return f => { foreach (var a in actions) a(f); };
    }

    private Action<Frame> Statement(Stmt s)
    {
        switch (s)
        {
            case Declare d: return AssignTo(d.Local, d.Init);
            case Assign a: return AssignTo(a.Local, a.Value);
            case Store st:
            {
                int p = _params[st.Buffer];
                var index = Int(st.Index);
                if (st.Buffer.Element == ScalarType.F32)
                {
                    var v = Float(st.Value);
                    return f => f.StoreF32(p, index(f), v(f));
                }
                if (st.Buffer.Element == ScalarType.F16)
                {
                    var h = Half(st.Value);
                    return f => f.StoreF16(p, index(f), h(f));
                }
                var iv = Int(st.Value);
                return f => f.StoreI32(p, index(f), iv(f));
            }
            case For loop:
            {
                int slot = Slot(loop.Index);
                var from = Int(loop.From);
                var to = Int(loop.To);
                var body = Block(loop.Body);
                return f =>
                {
                    for (int i = from(f); i < to(f); i++)
                    {
                        f.Ints[slot] = i;
                        body(f);
                    }
                };
            }
            default: throw new NotSupportedException($"evaluator: statement {s.GetType().Name}");
        }
    }

    private Action<Frame> AssignTo(Local local, Expr value)
    {
        int slot = Slot(local);
        switch (local.Type)
        {
            case ScalarType.F32: { var v = Float(value); return f => f.Floats[slot] = v(f); }
            case ScalarType.F16: { var h = Half(value); return f => f.Ints[slot] = h(f); }
            case ScalarType.I32: { var v = Int(value); return f => f.Ints[slot] = v(f); }
            default: { var v = Bool(value); return f => f.Ints[slot] = v(f) ? 1 : 0; }
        }
    }

    private Func<Frame, float> Float(Expr e)
    {
        switch (e)
        {
            case FloatConst c: { float v = c.Value; return _ => v; }
            case LocalRef r: { int s = Slot(r.Local); return f => f.Floats[s]; }
            case Load l: { int p = _params[l.Buffer]; var i = Int(l.Index); return f => f.LoadF32(p, i(f)); }
            case Binary b:
            {
                var x = Float(b.Left);
                var y = Float(b.Right);
                return b.Op switch
                {
                    BinaryOp.Add => f => Canon(x(f) + y(f)),
                    BinaryOp.Sub => f => Canon(x(f) - y(f)),
                    BinaryOp.Mul => f => Canon(x(f) * y(f)),
                    BinaryOp.Div => f => Canon(x(f) / y(f)),
                    _ => throw new NotSupportedException($"evaluator: f32 {b.Op}"),
                };
            }
            case Fma m:
            {
                var a = Float(m.A);
                var b = Float(m.B);
                var c = Float(m.C);
                return f => Canon(MathF.FusedMultiplyAdd(a(f), b(f), c(f)));
            }
            case Select s:
            {
                var c = Bool(s.Condition);
                var t = Float(s.IfTrue);
                var o = Float(s.IfFalse);
                return f => c(f) ? t(f) : o(f);
            }
            case Kernels.Convert { Op: ConvertOp.IntToFloat } cv: { var i = Int(cv.Operand); return f => i(f); }
            case Kernels.Convert { Op: ConvertOp.IntBitsToFloat } cv: { var i = Int(cv.Operand); return f => BitConverter.Int32BitsToSingle(i(f)); }
            case Kernels.Convert { Op: ConvertOp.Extend } cv: { var h = Half(cv.Operand); return f => BitConverter.UInt32BitsToSingle(Binary16.ToSingle(h(f))); }
            case Call call: return CallFloat(call);
            default: throw new NotSupportedException($"evaluator: f32 expression {e.GetType().Name}");
        }
    }

    /// <summary>binary16 values travel as their bit patterns; every operation is <see cref="Binary16"/>'s, correctly rounded.</summary>
    private Func<Frame, ushort> Half(Expr e)
    {
        switch (e)
        {
            case HalfConst c: { ushort v = c.Bits; return _ => v; }
            case LocalRef r: { int s = Slot(r.Local); return f => (ushort)f.Ints[s]; }
            case Load l: { int p = _params[l.Buffer]; var i = Int(l.Index); return f => f.LoadF16(p, i(f)); }
            case Binary b:
            {
                var x = Half(b.Left);
                var y = Half(b.Right);
                return b.Op switch
                {
                    BinaryOp.Add => f => Binary16.Add(x(f), y(f)),
                    BinaryOp.Sub => f => Binary16.Sub(x(f), y(f)),
                    BinaryOp.Mul => f => Binary16.Mul(x(f), y(f)),
                    BinaryOp.Div => f => Binary16.Div(x(f), y(f)),
                    _ => throw new NotSupportedException($"evaluator: f16 {b.Op}"),
                };
            }
            case Fma m:
            {
                var a = Half(m.A);
                var b = Half(m.B);
                var c = Half(m.C);
                return f => Binary16.FMAdd(a(f), b(f), c(f));
            }
            case Select s:
            {
                var c = Bool(s.Condition);
                var t = Half(s.IfTrue);
                var o = Half(s.IfFalse);
                return f => c(f) ? t(f) : o(f);
            }
            case Kernels.Convert { Op: ConvertOp.Truncate } cv: { var x = Float(cv.Operand); return f => Binary16.FromSingle(BitConverter.SingleToUInt32Bits(x(f))); }
            default: throw new NotSupportedException($"evaluator: f16 expression {e.GetType().Name}");
        }
    }

    private Func<Frame, int> Int(Expr e)
    {
        switch (e)
        {
            case IntConst c: { int v = c.Value; return _ => v; }
            case LocalRef r: { int s = Slot(r.Local); return f => f.Ints[s]; }
            case Load l: { int p = _params[l.Buffer]; var i = Int(l.Index); return f => f.LoadI32(p, i(f)); }
            case Binary b:
            {
                var x = Int(b.Left);
                var y = Int(b.Right);
                return b.Op switch
                {
                    BinaryOp.Add => f => unchecked(x(f) + y(f)),
                    BinaryOp.Sub => f => unchecked(x(f) - y(f)),
                    BinaryOp.Mul => f => unchecked(x(f) * y(f)),
                    BinaryOp.Div => f => x(f) / y(f),
                    BinaryOp.And => f => x(f) & y(f),
                    BinaryOp.Or => f => x(f) | y(f),
                    BinaryOp.Xor => f => x(f) ^ y(f),
                    BinaryOp.Shl => f => (int)((uint)x(f) << y(f)),
                    BinaryOp.LShr => f => (int)((uint)x(f) >> y(f)),
                    _ => throw new NotSupportedException($"evaluator: i32 {b.Op}"),
                };
            }
            case Select s:
            {
                var c = Bool(s.Condition);
                var t = Int(s.IfTrue);
                var o = Int(s.IfFalse);
                return f => c(f) ? t(f) : o(f);
            }
            case PopCount pc: { var x = Int(pc.Operand); return f => System.Numerics.BitOperations.PopCount((uint)x(f)); }
            // Lowerings clamp before converting, so truncation toward zero is the whole contract.
            case Kernels.Convert { Op: ConvertOp.FloatToInt } cv: { var x = Float(cv.Operand); return f => (int)x(f); }
            case Kernels.Convert { Op: ConvertOp.FloatBitsToInt } cv: { var x = Float(cv.Operand); return f => BitConverter.SingleToInt32Bits(x(f)); }
            default: throw new NotSupportedException($"evaluator: i32 expression {e.GetType().Name}");
        }
    }

    private Func<Frame, bool> Bool(Expr e)
    {
        if (e is not Compare c) throw new NotSupportedException($"evaluator: bool expression {e.GetType().Name}");
        if (c.Left.Type.IsFloat())
        {
            // binary16 -> binary32 is exact, so comparing the widened values is the IEEE comparison of the halves.
            var x = Float(Ir.Cast(c.Left, ScalarType.F32));
            var y = Float(Ir.Cast(c.Right, ScalarType.F32));
            return c.Op switch
            {
                CompareOp.Lt => f => x(f) < y(f),
                CompareOp.Le => f => x(f) <= y(f),
                CompareOp.Gt => f => x(f) > y(f),
                CompareOp.Ge => f => x(f) >= y(f),
                CompareOp.Eq => f => x(f) == y(f),
                _ => f => x(f) != y(f),
            };
        }
        var a = Int(c.Left);
        var b = Int(c.Right);
        return c.Op switch
        {
            CompareOp.Lt => f => a(f) < b(f),
            CompareOp.Le => f => a(f) <= b(f),
            CompareOp.Gt => f => a(f) > b(f),
            CompareOp.Ge => f => a(f) >= b(f),
            CompareOp.Eq => f => a(f) == b(f),
            _ => f => a(f) != b(f),
        };
    }

    /// <summary>Scalar functions are inlined at each call site: their locals get fresh slots of the caller's frame.</summary>
    private Func<Frame, float> CallFloat(Call call)
    {
        var fn = call.Function;
        if (fn.Body.Count == 0 || fn.Body[^1] is not Return ret)
            throw new NotSupportedException($"evaluator: {fn.Name} must end with return");
        var args = call.Arguments.Select(Float).ToArray();
        var scope = fn.Parameters.Concat(IrWalker.DeclaredLocals(fn.Body)).ToDictionary(l => l, _ => _slotCount++);
        _scopes.Push(scope);
        int[] paramSlots = fn.Parameters.Select(Slot).ToArray();
        var body = Block(fn.Body.Take(fn.Body.Count - 1).ToArray());
        var result = Float(ret.Value);
        _scopes.Pop();
        return f =>
        {
            for (int i = 0; i < args.Length; i++) f.Floats[paramSlots[i]] = args[i](f);
            body(f);
            return result(f);
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Canon(float v) => float.IsNaN(v) ? Frame.CanonicalNaN : v;
}
