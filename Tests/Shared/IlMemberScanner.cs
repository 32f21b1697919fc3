using System.Reflection;
using System.Reflection.Emit;

namespace MlRounding.Tests.Shared;

/// <summary>
/// Lists the members and types that an assembly's code refers to, by walking the IL of every method body (operand
/// tokens resolved through <see cref="Module.ResolveMember(int, Type[], Type[])"/>) and the signatures and base types
/// of every type.
/// </summary>
internal static class IlMemberScanner
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    public sealed record Use(Type User, string Where, MemberInfo Member);

    public static IEnumerable<Use> Scan(Assembly assembly)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (Type type in assembly.GetTypes())
        {
            if (type.BaseType is { } baseType)
            {
                yield return new Use(type, "base type", baseType);
            }

            foreach (Type i in type.GetInterfaces())
            {
                yield return new Use(type, "interface", i);
            }

            foreach (FieldInfo field in type.GetFields(all))
            {
                yield return new Use(type, "field " + field.Name, field.FieldType);
            }

            foreach (MethodBase method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (method is MethodInfo mi)
                {
                    yield return new Use(type, method.Name + " return", mi.ReturnType);
                }

                foreach (ParameterInfo p in method.GetParameters())
                {
                    yield return new Use(type, method.Name + " parameter", p.ParameterType);
                }

                foreach (MemberInfo used in Operands(method))
                {
                    yield return new Use(type, method.Name, used);
                }
            }
        }
    }

    private static IEnumerable<MemberInfo> Operands(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            OpCode op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                case OperandType.InlineType:
                case OperandType.InlineTok:
                    int token = BitConverter.ToInt32(il, i);
                    MemberInfo? member = null;
                    try
                    {
                        member = method.Module.ResolveMember(token, typeArgs, methodArgs);
                    }
                    catch (ArgumentException)
                    {
                    }

                    if (member is not null)
                    {
                        yield return member;
                    }

                    i += 4;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + 4 * BitConverter.ToInt32(il, i);
                    break;
                default:
                    i += 4;
                    break;
            }
        }
    }
}
