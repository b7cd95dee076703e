using System.Globalization;
using System.Text;
using Btmc.Platform.Compute;

namespace Btmc.Compute.Jobs;

/// <summary>One task of a job's plan: its index (task id <c>t</c> + five digits), the <c>btmc worker</c> arguments and the input files.</summary>
public sealed record PlannedTask(int Index, IReadOnlyList<string> WorkerArguments, IReadOnlyList<TaskInputFile> InputFiles)
{
    public string Id => JobPlanner.TaskId(Index);
}

/// <summary>
/// Splits a job into tasks (docs/compute-jobs.md, "Task split"): a nonce range into slices of <c>taskSize</c> nonces
/// (the last one shorter), files into groups of <c>filesPerTask</c>, frames into runs of <c>framesPerTask</c>. The plan
/// is a function of the request alone, so it is never stored: it is derived again wherever it is needed.
/// </summary>
public static class JobPlanner
{
    /// <summary>The name of the scene file in a render task's folder.</summary>
    public const string SceneFileName = "scene.blend";

    /// <summary>The id of the job's task number <paramref name="index"/>: <c>t00000</c>, <c>t00001</c>, ….</summary>
    public static string TaskId(int index) => string.Create(CultureInfo.InvariantCulture, $"t{index:D5}");

    public static IReadOnlyList<PlannedTask> Plan(JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return [.. Enumerable.Range(0, request.TaskCount).Select(index => Task(request, index))];
    }

    /// <summary>Task <paramref name="index"/> of the request's plan.</summary>
    public static PlannedTask Task(JobRequest request, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, request.TaskCount);
        switch (request)
        {
            case HashRangeRequest hashing:
                var (from, count) = NonceRange(hashing, index);
                return new PlannedTask(index,
                    [WorkerOutput.HashRangeKind, "--header", hashing.Header, "--bits", Text(hashing.Bits), "--start", Text(from), "--count", Text(count)], []);
            case DigestRequest digest:
                var (first, files) = FileGroup(digest, index);
                var inputs = Enumerable.Range(first, files).Select(i => new TaskInputFile(InputName(i, digest.Files[i]), digest.Files[i])).ToList();
                return new PlannedTask(index, [WorkerOutput.DigestKind, .. inputs.Select(i => i.FileName)], inputs);
            case RenderRequest render:
                var (start, end) = Frames(render, index);
                return new PlannedTask(index,
                    [WorkerOutput.RenderKind, "--scene", SceneFileName, "--frames", FrameRange.Format(start, end), .. render.Engine is null ? Array.Empty<string>() : ["--engine", render.Engine]],
                    [new TaskInputFile(SceneFileName, render.Scene)]);
            default:
                throw new ArgumentException($"Unknown request type {request.GetType().Name}.", nameof(request));
        }
    }

    /// <summary>The nonces of hashing task <paramref name="index"/>: from, count.</summary>
    public static (ulong From, ulong Count) NonceRange(HashRangeRequest request, int index)
    {
        var offset = (ulong)index * request.TaskSize;
        return (request.Start + offset, Math.Min(request.TaskSize, request.Count - offset));
    }

    /// <summary>The files of digest task <paramref name="index"/>: the first one's index in the request, how many.</summary>
    public static (int First, int Count) FileGroup(DigestRequest request, int index)
    {
        var first = index * request.FilesPerTask;
        return (first, Math.Min(request.FilesPerTask, request.Files.Count - first));
    }

    /// <summary>The frames of render task <paramref name="index"/>: first, last.</summary>
    public static (int First, int Last) Frames(RenderRequest request, int index)
    {
        var first = request.FirstFrame + (index * request.FramesPerTask);
        return (first, Math.Min(request.LastFrame, first + request.FramesPerTask - 1));
    }

    /// <summary>The name file <paramref name="fileIndex"/> of a digest job gets in its task's folder:
    /// <c>in/&lt;index, five digits&gt;-&lt;its name, letters, digits, '.', '-', '_' only&gt;</c>.</summary>
    public static string InputName(int fileIndex, string source)
    {
        var name = Uri.TryCreate(source, UriKind.Absolute, out var uri) && !uri.IsFile
            ? uri.Segments.LastOrDefault() ?? string.Empty
            : Path.GetFileName(uri?.IsFile == true ? uri.LocalPath : source);
        var safe = new StringBuilder();
        foreach (var c in Uri.UnescapeDataString(name))
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
            if (safe.Length == 80)
            {
                break;
            }
        }

        var text = safe.ToString().Trim('.');
        return string.Create(CultureInfo.InvariantCulture, $"in/{fileIndex:D5}-{(text.Length == 0 ? "file" : text)}");
    }

    private static string Text<T>(T value)
        where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);
}
