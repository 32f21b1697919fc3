using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MlRounding.Tests.Structure;

/// <summary>
/// Rules about the source tree itself, read from the .cs files of the libraries and the command line (Transforms/,
/// Trainers/, Samples/): methods read as a sequence of named steps, at most <see cref="MaxMethodLines"/> lines each.
/// </summary>
[TestClass]
public sealed class SourceRulesTests
{
    /// <summary>The longest a method, constructor, accessor or local function may be, from its signature to its closing brace.</summary>
    public const int MaxMethodLines = 60;

    [TestMethod]
    public void EveryMethod_OfTheLibrariesAndTheCommandLine_IsAtMostSixtyLines()
    {
        var tooLong = SourceFiles().SelectMany(LongMethods).ToList();
        Assert.IsEmpty(tooLong, "methods over " + MaxMethodLines + " lines:\n" + string.Join('\n', tooLong));
    }

    [TestMethod]
    public void TheMethodLengthRule_FindsALongMethod()
    {
        string body = string.Join('\n', Enumerable.Range(0, MaxMethodLines).Select(i => $"        int v{i} = {i};"));
        // The signature, the braces and MaxMethodLines statements: MaxMethodLines + 3 lines.
        string source = $"class C\n{{\n    void Long()\n    {{\n{body}\n    }}\n\n    void Short() {{ }}\n}}\n";
        var found = LongMethods(("C.cs", source)).ToList();
        Assert.HasCount(1, found);
        StringAssert.Contains(found[0], "C.cs:3 Long (" + (MaxMethodLines + 3) + " lines)");
    }

    private static IEnumerable<(string Path, string Text)> SourceFiles()
    {
        string root = RepositoryRoot();
        return new[] { "Transforms", "Trainers", "Samples" }
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => (Path.GetRelativePath(root, f), File.ReadAllText(f)));
    }

    private static IEnumerable<string> LongMethods((string Path, string Text) file)
    {
        foreach (SyntaxNode node in CSharpSyntaxTree.ParseText(file.Text).GetRoot().DescendantNodes())
        {
            string? name = node switch
            {
                MethodDeclarationSyntax m when m.Body is not null || m.ExpressionBody is not null => m.Identifier.Text,
                ConstructorDeclarationSyntax c when c.Body is not null || c.ExpressionBody is not null => c.Identifier.Text + " constructor",
                LocalFunctionStatementSyntax l => "local function " + l.Identifier.Text,
                AccessorDeclarationSyntax a when a.Body is not null || a.ExpressionBody is not null => a.Keyword.Text + " accessor",
                OperatorDeclarationSyntax o => "operator " + o.OperatorToken.Text,
                _ => null,
            };
            if (name is null)
            {
                continue;
            }

            FileLinePositionSpan span = node.GetLocation().GetLineSpan();
            int lines = span.EndLinePosition.Line - span.StartLinePosition.Line + 1;
            if (lines > MaxMethodLines)
            {
                yield return $"{file.Path}:{span.StartLinePosition.Line + 1} {name} ({lines} lines)";
            }
        }
    }

    private static string RepositoryRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "MlRounding.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("MlRounding.sln not found above " + AppContext.BaseDirectory);
    }
}
