using System.Reflection;
using System.Reflection.Emit;
using MlRounding.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Trainers.Tests.Modules;

/// <summary>
/// Our TorchSharp code never hands LibTorch a Scalar that nothing keeps alive (TorchSharp 0.107 passes only the native
/// pointer of a number converted to a finalizable Scalar, so a collection on another thread can free it during the
/// call; see ScalarArithmetic in MlRounding.Ops, ScalarArithmeticTests and docs/reliability.md). The compiled IL of MlRounding.Ops and
/// MlRounding.Trainers is scanned for the calls that create such a Scalar: an implicit conversion to Scalar, a Tensor
/// operator with a number operand, Tensor + Tensor, and the Tensor.add/add_/addcdiv/addcmul overloads that fill in
/// a default alpha or value; and every TorchSharp method we call is followed four calls deep into TorchSharp's own IL
/// for a conversion of a number to a Scalar (<c>Tensor.square()</c> is <c>pow(2)</c>, <c>arange(start, stop)</c> passes a step of 1).
/// </summary>
[TestClass]
public sealed class ScalarLifetimeTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Every method called (call, callvirt, newobj) by every method of the assembly's types, nested and generated ones included.</summary>
    private static IEnumerable<(string Caller, MethodBase Callee)> Calls(Assembly assembly, Func<Type, bool>? types = null)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (Type type in assembly.GetTypes().Where(types ?? (_ => true)))
        {
            foreach (MethodBase method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                foreach (MethodBase callee in Callees(method))
                {
                    yield return ($"{type.FullName}.{method.Name}", callee);
                }
            }
        }
    }

    /// <summary>Every method <paramref name="method"/>'s IL calls (call, callvirt, newobj).</summary>
    private static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        Type? type = method.DeclaringType;
        for (int at = 0; il is not null && at < il.Length;)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            OpCode op = OpCodesByValue[value];
            at += op.Size;
            if (op.OperandType == OperandType.InlineMethod && method.Module.ResolveMethod(BitConverter.ToInt32(il, at), type is { IsGenericType: true } ? type.GetGenericArguments() : null, method.IsGenericMethod ? method.GetGenericArguments() : null) is { } callee)
            {
                yield return callee;
            }

            at += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
                _ => 4,
            };
        }
    }

    /// <summary>
    /// Whether a TorchSharp method (other than the ways to make a Scalar that the caller then holds) converts a number to a
    /// Scalar inside itself or in the TorchSharp methods it calls, <paramref name="depth"/> calls deep.
    /// </summary>
    private static bool MakesAScalarInside(MethodBase method, int depth, HashSet<MethodBase> seen)
    {
        Assembly torchSharp = typeof(Tensor).Assembly;
        if (depth == 0 || method.Module.Assembly != torchSharp || IsScalarFactory(method) || !seen.Add(method))
        {
            return false;
        }

        return Callees(method).Any(c => IsScalarFactory(c) || MakesAScalarInside(c, depth - 1, seen));
    }

    /// <summary>A Scalar's constructor or conversion: <c>ToScalar</c>, the implicit conversions.</summary>
    private static bool IsScalarFactory(MethodBase method) =>
        method.Name == "ToScalar" || (method.DeclaringType == typeof(Scalar) && method.Name is "op_Implicit" or ".ctor");

    /// <summary>Whether a call creates a Scalar that only its native pointer outlives.</summary>
    private static bool CreatesAnUnheldScalar(MethodBase callee)
    {
        Type[] parameters = callee.GetParameters().Select(p => p.ParameterType).ToArray();
        bool number = parameters.Any(p => p.IsPrimitive);
        return (callee.DeclaringType, callee.Name) switch
        {
            (var t, "op_Implicit") when t == typeof(Scalar) => true,
            (var t, "op_Addition") when t == typeof(Tensor) => true, // Tensor + x is add(x, alpha: 1)
            (var t, "op_Subtraction") when t == typeof(Tensor) => number || parameters[0] == typeof(Scalar), // x - Tensor is -Tensor + x
            (var t, "op_Multiply" or "op_Division" or "op_Modulus") when t == typeof(Tensor) => number,
            (var t, "add" or "add_") when t == typeof(Tensor) => parameters.Length == 1,
            (var t, "addcdiv" or "addcdiv_" or "addcmul" or "addcmul_") when t == typeof(Tensor) => parameters.Length == 2,
            _ => MakesAScalarInside(callee, 4, new HashSet<MethodBase>()), // Tensor.square() is pow(2)
        };
    }

    private static string[] Offenders(Assembly assembly, Func<Type, bool>? types = null) =>
        Calls(assembly, types).Where(c => CreatesAnUnheldScalar(c.Callee))
            .Select(c => $"{c.Caller} calls {c.Callee.DeclaringType?.Name}.{c.Callee.Name}({string.Join(", ", c.Callee.GetParameters().Select(p => p.ParameterType.Name))})")
            .Distinct().Order().ToArray();

    [TestMethod]
    public void OpsAndTrainers_HoldEveryScalarTheyPassToLibTorch()
    {
        foreach (Assembly assembly in new[] { typeof(Rounding).Assembly, typeof(QatOptions).Assembly })
        {
            string[] offenders = Offenders(assembly);
            Assert.IsEmpty(offenders, $"{assembly.GetName().Name} converts numbers to Scalars that nothing keeps alive (use ScalarArithmetic):\n{string.Join("\n", offenders)}");
        }
    }

    [TestMethod]
    public void Scan_FindsEachKindOfUnheldScalar()
    {
        // The scan itself, on the samples below: each line of Unheld is found, Held is not.
        string[] found = Offenders(typeof(ScalarLifetimeTests).Assembly, t => t == typeof(Samples));
        CollectionAssert.AreEquivalent(
            new[]
            {
                "MlRounding.Trainers.Tests.Modules.ScalarLifetimeTests+Samples.Unheld calls Scalar.op_Implicit(Double)",
                "MlRounding.Trainers.Tests.Modules.ScalarLifetimeTests+Samples.Unheld calls Tensor.op_Addition(Tensor, Tensor)",
                "MlRounding.Trainers.Tests.Modules.ScalarLifetimeTests+Samples.Unheld calls Tensor.op_Multiply(Tensor, Double)",
                "MlRounding.Trainers.Tests.Modules.ScalarLifetimeTests+Samples.Unheld calls Tensor.op_Subtraction(Double, Tensor)",
                "MlRounding.Trainers.Tests.Modules.ScalarLifetimeTests+Samples.Unheld calls Tensor.add(Tensor)",
                "MlRounding.Trainers.Tests.Modules.ScalarLifetimeTests+Samples.Unheld calls Tensor.square()",
            },
            found);
    }

    /// <summary>Sample calls for <see cref="Scan_FindsEachKindOfUnheldScalar"/>; never run.</summary>
    private static class Samples
    {
        public static Tensor Unheld(Tensor a, Tensor b)
        {
            Scalar s = 0.5;
            return (a + b) * 2.0 + (1.0 - a).add(b).mul(s).square();
        }

        public static Tensor Held(Tensor a, Tensor b)
        {
            using Scalar two = 2.ToScalar();
            return ((a - b) * b - a).pow(two);
        }
    }
}
