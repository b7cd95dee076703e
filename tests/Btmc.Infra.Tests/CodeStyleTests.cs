using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Btmc.Infra.Tests;

/// <summary>
/// House rules the compiler does not check: usings sorted (System first, then the rest in order; the build's IDE0005
/// refuses unused ones, but no analyzer refuses an unsorted list without also reformatting aligned code), and no
/// source linked into a project from another folder (shared test code is the Btmc.Testing project).
/// </summary>
public sealed class CodeStyleTests
{
    private static readonly string[] Folders = ["shared", "functions", "cli", "bench", "tests"];

    [Fact]
    public void Usings_EveryFile_SystemFirstThenSorted()
    {
        var unsorted = new List<string>();
        foreach (var path in SourceFiles())
        {
            var root = CSharpSyntaxTree.ParseText(File.ReadAllText(path)).GetCompilationUnitRoot();
            var names = root.Usings.Where(u => u.Alias is null && u.StaticKeyword.IsKind(SyntaxKind.None) && u.GlobalKeyword.IsKind(SyntaxKind.None))
                .Select(u => u.Name!.ToString()).ToList();
            var sorted = names.OrderBy(n => n == "System" || n.StartsWith("System.", StringComparison.Ordinal) ? 0 : 1)
                .ThenBy(n => n, StringComparer.OrdinalIgnoreCase).ToList();
            if (!names.SequenceEqual(sorted))
            {
                unsorted.Add($"{Path.GetRelativePath(Repository.Root, path)}: {string.Join(", ", names)}");
            }
        }

        Assert.True(unsorted.Count == 0, "usings not sorted (System first, then ordinal): " + string.Join("\n", unsorted));
    }

    [Fact]
    public void Projects_NoSourceLinkedFromAnotherFolder()
    {
        var linked = Folders
            .SelectMany(folder => Directory.EnumerateFiles(Repository.PathOf(folder), "*.csproj", SearchOption.AllDirectories))
            .Where(project => File.ReadAllText(project).Contains("<Compile Include=\"..", StringComparison.Ordinal))
            .Select(project => Path.GetRelativePath(Repository.Root, project))
            .ToList();

        Assert.Empty(linked);
    }

    private static IEnumerable<string> SourceFiles() => Folders
        .SelectMany(folder => Directory.EnumerateFiles(Repository.PathOf(folder), "*.cs", SearchOption.AllDirectories))
        .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
}
