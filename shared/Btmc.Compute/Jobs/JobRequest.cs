using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Btmc.Compute.Mining;
using Btmc.Ledger;

namespace Btmc.Compute.Jobs;

/// <summary>What a compute job does (docs/compute-jobs.md, "Job kinds").</summary>
public enum JobKind
{
    /// <summary>Nonce-range search: every nonce of a range whose share hash meets a difficulty.</summary>
    HashRange,

    /// <summary>SHA-256 of each of a list of files.</summary>
    Digest,

    /// <summary>Frames of a Blender scene, as PNG files.</summary>
    Render,
}

/// <summary>
/// A compute job as submitted: its kind's parameters, the partner who submitted it and, optionally, the registered
/// contributors it may run on (all registered ones otherwise). The job's id is the SHA-256 of its canonical JSON
/// (<see cref="CanonicalJson"/>), so the same request is the same job.
/// </summary>
public abstract record JobRequest(string Owner, IReadOnlyList<string>? Contributors)
{
    /// <summary>Most tasks a job splits into (its verification re-executions come on top).</summary>
    public const int MaxTasks = 10_000;

    /// <summary>Most contributors a request may name.</summary>
    public const int MaxContributors = 1000;

    /// <summary>Longest contributor id.</summary>
    public const int MaxContributorIdLength = 128;

    /// <summary>Longest file path or URL.</summary>
    public const int MaxSourceLength = 1024;

    public abstract JobKind Kind { get; }

    /// <summary>The kind as the API writes it: <c>hash-range</c>, <c>digest</c>, <c>render</c>.</summary>
    public string KindName => NameOf(Kind);

    /// <summary>How many tasks the job splits into.</summary>
    public abstract int TaskCount { get; }

    /// <summary>The job's id: SHA-256 of the canonical JSON, lowercase hex.</summary>
    public string JobId => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson())));

    public static string NameOf(JobKind kind) => kind switch
    {
        JobKind.HashRange => WorkerOutput.HashRangeKind,
        JobKind.Digest => WorkerOutput.DigestKind,
        JobKind.Render => WorkerOutput.RenderKind,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// The request as one line of JSON with every member in a fixed order and defaults filled in:
    /// <c>{"version":1,"kind","owner",…kind's members…,"contributors":[sorted]|null}</c>.
    /// </summary>
    public string CanonicalJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", 1);
            writer.WriteString("kind", KindName);
            writer.WriteString("owner", Owner);
            WriteMembers(writer);
            if (Contributors is null)
            {
                writer.WriteNull("contributors");
            }
            else
            {
                writer.WriteStartArray("contributors");
                foreach (var contributor in Contributors)
                {
                    writer.WriteStringValue(contributor);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Checks the request against the limits of its kind.</summary>
    /// <exception cref="Refused">A member is out of range; <see cref="Refused.Field"/> names it.</exception>
    public void Validate()
    {
        if (Contributors is not null)
        {
            if (Contributors.Count is < 2 or > MaxContributors)
            {
                throw Refused.Invalid("contributors", $"Name between 2 and {MaxContributors} contributors (sampled tasks are re-executed by a different one), or none to use every registered contributor.");
            }

            for (var i = 0; i < Contributors.Count; i++)
            {
                if (!IsContributorId(Contributors[i]))
                {
                    throw Refused.Invalid($"contributors[{i}]", $"A contributor id is 1..{MaxContributorIdLength} characters without '/', '\\', '#', '?' or control characters.");
                }
            }

            if (Contributors.Distinct(StringComparer.Ordinal).Count() != Contributors.Count)
            {
                throw Refused.Invalid("contributors", "The contributors are not distinct.");
            }
        }

        ValidateMembers();
    }

    /// <summary>
    /// Reads a request body (docs/compute-jobs.md, "Submitting"): <c>kind</c> and the kind's members, and an optional
    /// <c>contributors</c> array; validated. Integers may be JSON numbers or decimal strings (nonces pass 2^53).
    /// </summary>
    /// <exception cref="Refused">The body is not a valid request; the field is named.</exception>
    public static JobRequest FromJson(JsonElement body, string owner)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw Refused.Invalid("body", "The body must be a JSON object.");
        }

        var contributors = body.TryGetProperty("contributors", out var named) && named.ValueKind != JsonValueKind.Null
            ? Strings(named, "contributors").Order(StringComparer.Ordinal).ToList()
            : null;
        JobRequest request = Text(body, "kind") switch
        {
            WorkerOutput.HashRangeKind => ReadHashRange(body, owner, contributors),
            WorkerOutput.DigestKind => new DigestRequest(owner, Strings(Member(body, "files"), "files"), Integer<int>(body, "filesPerTask", DigestRequest.DefaultFilesPerTask), contributors),
            WorkerOutput.RenderKind => ReadRender(body, owner, contributors),
            var other => throw Refused.Invalid("kind", $"The kind '{other}' is not one of hash-range, digest, render."),
        };
        request.Validate();
        return request;
    }

    protected abstract void WriteMembers(Utf8JsonWriter writer);

    protected abstract void ValidateMembers();

    /// <summary>An absolute local path, or a file, http or https URL.</summary>
    protected static bool IsSource(string source) =>
        source.Length is >= 1 and <= MaxSourceLength && !source.Any(char.IsControl)
        && (Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "file" || Path.IsPathFullyQualified(source));

    private static bool IsContributorId(string id) =>
        id.Length is >= 1 and <= MaxContributorIdLength && !id.Any(c => char.IsControl(c) || c is '/' or '\\' or '#' or '?');

    private static HashRangeRequest ReadHashRange(JsonElement body, string owner, IReadOnlyList<string>? contributors)
    {
        var header = Text(body, "header");
        var bits = Integer<int>(body, "bits", null);
        var count = Integer<ulong>(body, "count", null);

        // A task of more nonces than the job has is the whole job: written as such, so both spellings are one job.
        var taskSize = Math.Min(Integer<ulong>(body, "taskSize", HashRangeRequest.DefaultTaskSize(bits)), count);
        return new HashRangeRequest(owner, header.ToLowerInvariant(), bits, Integer<ulong>(body, "start", 0UL), count, taskSize, contributors);
    }

    private static RenderRequest ReadRender(JsonElement body, string owner, IReadOnlyList<string>? contributors)
    {
        var frames = Text(body, "frames");
        if (!FrameRange.TryParse(frames, out var first, out var last))
        {
            throw Refused.Invalid("frames", $"frames is \"<first>-<last>\" (or one frame), 0 <= first <= last <= {FrameRange.MaxFrame}.");
        }

        var engine = body.TryGetProperty("engine", out var e) && e.ValueKind != JsonValueKind.Null ? Text(body, "engine") : null;
        return new RenderRequest(owner, Text(body, "scene"), first, last, Integer<int>(body, "framesPerTask", RenderRequest.DefaultFramesPerTask), engine, contributors);
    }

    private static JsonElement Member(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw Refused.Invalid(name, $"The member '{name}' is required.");

    private static string Text(JsonElement body, string name) =>
        Member(body, name) is { ValueKind: JsonValueKind.String } value && value.GetString() is { Length: > 0 } text
            ? text
            : throw Refused.Invalid(name, $"The member '{name}' must be a non-empty string.");

    private static List<string> Strings(JsonElement array, string name)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw Refused.Invalid(name, $"The member '{name}' must be an array of strings.");
        }

        var items = new List<string>();
        foreach (var item in array.EnumerateArray())
        {
            items.Add(item.ValueKind == JsonValueKind.String && item.GetString() is { } text
                ? text
                : throw Refused.Invalid($"{name}[{items.Count}]", $"{name}[{items.Count}] must be a string."));
        }

        return items;
    }

    private static T Integer<T>(JsonElement body, string name, T? defaultValue)
        where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return defaultValue ?? throw Refused.Invalid(name, $"The member '{name}' is required.");
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.String => value.GetString() ?? string.Empty,
            _ => string.Empty,
        };
        return T.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw Refused.Invalid(name, $"The member '{name}' must be a non-negative integer (a number or a decimal string) of at most {T.MaxValue}.");
    }
}

/// <summary>
/// Nonce-range search: the nonces <c>start .. start + count − 1</c> whose share hash over <c>header</c> has at least
/// <c>bits</c> leading zero bits (<see cref="ShareHash"/>), in tasks of <c>taskSize</c> nonces.
/// </summary>
/// <param name="Header">The bytes before the nonce, lowercase hex, 1..<see cref="ShareHash.MaxHeaderSize"/> bytes.</param>
public sealed record HashRangeRequest(string Owner, string Header, int Bits, ulong Start, ulong Count, ulong TaskSize, IReadOnlyList<string>? Contributors = null)
    : JobRequest(Owner, Contributors)
{
    /// <summary>Most nonces a job searches (2^40).</summary>
    public const ulong MaxCount = 1UL << 40;

    /// <summary>Most finds a task may expect (taskSize × 2^−bits): bounds the size of a task's result.</summary>
    public const double MaxExpectedFindsPerTask = 256;

    /// <summary>Most finds a job may expect (count × 2^−bits): bounds the size of its result.</summary>
    public const double MaxExpectedFinds = 100_000;

    /// <summary>2^20 nonces, or fewer where a task would expect more than <see cref="MaxExpectedFindsPerTask"/> finds.</summary>
    public static ulong DefaultTaskSize(int bits) =>
        bits is >= 1 and <= 64 ? (ulong)Math.Min(1 << 20, MaxExpectedFindsPerTask * Math.Pow(2, bits)) : 1 << 20;

    public override JobKind Kind => JobKind.HashRange;

    public override int TaskCount => (int)Math.Min(int.MaxValue, (Count / TaskSize) + (Count % TaskSize == 0 ? 0UL : 1UL));

    /// <summary>The header's bytes.</summary>
    public byte[] HeaderBytes() => Convert.FromHexString(Header);

    protected override void WriteMembers(Utf8JsonWriter writer)
    {
        writer.WriteString("header", Header);
        writer.WriteNumber("bits", Bits);
        writer.WriteNumber("start", Start);
        writer.WriteNumber("count", Count);
        writer.WriteNumber("taskSize", TaskSize);
    }

    protected override void ValidateMembers()
    {
        if (Header.Length is 0 || Header.Length > 2 * ShareHash.MaxHeaderSize || Header.Length % 2 != 0 || !Header.All(char.IsAsciiHexDigitLower))
        {
            throw Refused.Invalid("header", $"header is 1..{ShareHash.MaxHeaderSize} bytes in hex.");
        }

        if (Bits is < 1 or > NonceSearch.MaxBits)
        {
            throw Refused.Invalid("bits", $"bits is between 1 and {NonceSearch.MaxBits}.");
        }

        if (Count is 0 or > MaxCount)
        {
            throw Refused.Invalid("count", $"count is between 1 and {MaxCount} nonces.");
        }

        if (Count - 1 > ulong.MaxValue - Start)
        {
            throw Refused.Invalid("start", "The range start .. start + count - 1 passes the largest nonce, 2^64 - 1.");
        }

        var expected = Count * Math.Pow(2, -Bits);
        if (expected > MaxExpectedFinds)
        {
            throw Refused.Invalid("count", $"{Count} nonces at {Bits} bits expect {expected:F0} finds; at most {MaxExpectedFinds}: raise bits or search fewer nonces.");
        }

        if (TaskSize == 0)
        {
            throw Refused.Invalid("taskSize", "taskSize is at least 1.");
        }

        if (TaskSize * Math.Pow(2, -Bits) > MaxExpectedFindsPerTask)
        {
            throw Refused.Invalid("taskSize", $"A task of {TaskSize} nonces at {Bits} bits expects more than {MaxExpectedFindsPerTask} finds: at most {DefaultTaskSize(Bits)} nonces per task.");
        }

        if (TaskCount > MaxTasks)
        {
            throw Refused.Invalid("taskSize", $"{Count} nonces in tasks of {TaskSize} make {TaskCount} tasks; at most {MaxTasks}.");
        }
    }
}

/// <summary>SHA-256 digests of files (absolute local paths in the embedded default, blob URLs in Azure), in tasks of
/// <c>filesPerTask</c> files.</summary>
public sealed record DigestRequest(string Owner, IReadOnlyList<string> Files, int FilesPerTask, IReadOnlyList<string>? Contributors = null)
    : JobRequest(Owner, Contributors)
{
    public const int DefaultFilesPerTask = 16;

    public const int MaxFilesPerTask = 256;

    public const int MaxFiles = 10_000;

    public override JobKind Kind => JobKind.Digest;

    public override int TaskCount => (Files.Count + FilesPerTask - 1) / Math.Max(1, FilesPerTask);

    protected override void WriteMembers(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("files");
        foreach (var file in Files)
        {
            writer.WriteStringValue(file);
        }

        writer.WriteEndArray();
        writer.WriteNumber("filesPerTask", FilesPerTask);
    }

    protected override void ValidateMembers()
    {
        if (Files.Count is 0 or > MaxFiles)
        {
            throw Refused.Invalid("files", $"files lists 1..{MaxFiles} files.");
        }

        for (var i = 0; i < Files.Count; i++)
        {
            if (!IsSource(Files[i]))
            {
                throw Refused.Invalid($"files[{i}]", $"'{Files[i]}' is neither an absolute path nor a file, http or https URL (at most {MaxSourceLength} characters).");
            }
        }

        if (FilesPerTask is < 1 or > MaxFilesPerTask)
        {
            throw Refused.Invalid("filesPerTask", $"filesPerTask is between 1 and {MaxFilesPerTask}.");
        }
    }
}

/// <summary>Frames <c>firstFrame .. lastFrame</c> of a Blender scene (a .blend file: an absolute local path, or a blob
/// URL in Azure), in tasks of <c>framesPerTask</c> frames, with the scene's engine or <c>engine</c>.</summary>
public sealed record RenderRequest(string Owner, string Scene, int FirstFrame, int LastFrame, int FramesPerTask, string? Engine, IReadOnlyList<string>? Contributors = null)
    : JobRequest(Owner, Contributors)
{
    public const int DefaultFramesPerTask = 1;

    public const int MaxFramesPerTask = 256;

    public const int MaxFrames = 10_000;

    /// <summary>The engines a job may ask for (Blender's <c>-E</c>).</summary>
    public static readonly IReadOnlyList<string> Engines = ["CYCLES", "BLENDER_EEVEE", "BLENDER_WORKBENCH"];

    public override JobKind Kind => JobKind.Render;

    public override int TaskCount => ((LastFrame - FirstFrame + 1) + FramesPerTask - 1) / Math.Max(1, FramesPerTask);

    protected override void WriteMembers(Utf8JsonWriter writer)
    {
        writer.WriteString("scene", Scene);
        writer.WriteString("frames", FrameRange.Format(FirstFrame, LastFrame));
        writer.WriteNumber("framesPerTask", FramesPerTask);
        if (Engine is null)
        {
            writer.WriteNull("engine");
        }
        else
        {
            writer.WriteString("engine", Engine);
        }
    }

    protected override void ValidateMembers()
    {
        if (!IsSource(Scene))
        {
            throw Refused.Invalid("scene", $"'{Scene}' is neither an absolute path nor a file, http or https URL (at most {MaxSourceLength} characters).");
        }

        if (FirstFrame < 0 || LastFrame < FirstFrame || LastFrame > FrameRange.MaxFrame)
        {
            throw Refused.Invalid("frames", $"frames is \"<first>-<last>\", 0 <= first <= last <= {FrameRange.MaxFrame}.");
        }

        if (LastFrame - FirstFrame + 1 > MaxFrames)
        {
            throw Refused.Invalid("frames", $"A job renders at most {MaxFrames} frames.");
        }

        if (FramesPerTask is < 1 or > MaxFramesPerTask)
        {
            throw Refused.Invalid("framesPerTask", $"framesPerTask is between 1 and {MaxFramesPerTask}.");
        }

        if (Engine is not null && !Engines.Contains(Engine))
        {
            throw Refused.Invalid("engine", $"engine is one of {string.Join(", ", Engines)}, or absent for the scene's own.");
        }
    }
}
