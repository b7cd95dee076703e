namespace Btmc.Platform.Compute;

/// <summary>Settings of a <see cref="LocalProcessPool"/> (section <c>Compute:LocalPool</c> of the server's configuration).</summary>
public sealed class LocalProcessPoolOptions
{
    /// <summary>The folder that holds <c>&lt;job&gt;/&lt;task&gt;/</c>: each task's spec, state, stdout.txt, stderr.txt and out/.</summary>
    public string Root { get; set; } = string.Empty;

    /// <summary>Tasks running at once (default: one per processor).</summary>
    public int MaxParallelTasks { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// The command a task's worker arguments are appended to, e.g. <c>["dotnet", "/app/btmc.dll", "worker"]</c>: the
    /// first item is the program, the others its first arguments.
    /// </summary>
    public string[] WorkerCommand { get; set; } = [];

    /// <summary>
    /// Contributor id → their own worker command, used instead of <see cref="WorkerCommand"/> for that contributor's
    /// tasks (a contributor's machine, a container, a wrapper script).
    /// </summary>
    public Dictionary<string, string[]> ContributorCommands { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The command that runs <paramref name="contributor"/>'s tasks.</summary>
    public IReadOnlyList<string> CommandFor(string contributor) =>
        ContributorCommands.TryGetValue(contributor, out var own) && own.Length > 0 ? own : WorkerCommand;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Root))
        {
            throw new ArgumentException("Compute:LocalPool:Root (the pool's folder) is required.", nameof(Root));
        }

        if (MaxParallelTasks is < 1 or > 1024)
        {
            throw new ArgumentException("Compute:LocalPool:MaxParallelTasks must be between 1 and 1024.", nameof(MaxParallelTasks));
        }

        if (WorkerCommand.Length == 0 || string.IsNullOrEmpty(WorkerCommand[0]))
        {
            throw new ArgumentException("Compute:LocalPool:WorkerCommand (the program that runs a task, then its first arguments) is required.", nameof(WorkerCommand));
        }

        foreach (var (contributor, command) in ContributorCommands)
        {
            if (command.Length > 0 && string.IsNullOrEmpty(command[0]))
            {
                throw new ArgumentException($"Compute:LocalPool:ContributorCommands:{contributor} names no program.", nameof(ContributorCommands));
            }
        }
    }
}
