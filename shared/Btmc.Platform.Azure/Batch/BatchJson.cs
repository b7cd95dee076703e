using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Xml;

namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// The Batch service's JSON bodies (BatchService.json / models.tsp of the REST specification): Add Job, Add Task
/// Collection and its result, Terminate Job, a job, a page of tasks, and the error body. Durations are ISO 8601
/// (<c>PT1H</c>), times ISO 8601 UTC. Unset optional members are left out.
/// </summary>
internal static class BatchJson
{
    /// <summary>Add Job: <c>{"id","displayName","priority","constraints","poolInfo":{"poolId"},"onAllTasksComplete","onTaskFailure","usesTaskDependencies"}</c>.</summary>
    public static byte[] WriteJobCreate(BatchJobCreateContent job) => Write(writer =>
    {
        writer.WriteString("id"u8, job.Id);
        WriteOptional(writer, "displayName"u8, job.DisplayName);
        if (job.Priority is { } priority)
        {
            writer.WriteNumber("priority"u8, priority);
        }

        if (job.Constraints is { } constraints)
        {
            writer.WriteStartObject("constraints"u8);
            WriteDuration(writer, "maxWallClockTime"u8, constraints.MaxWallClockTime);
            if (constraints.MaxTaskRetryCount is { } retries)
            {
                writer.WriteNumber("maxTaskRetryCount"u8, retries);
            }

            writer.WriteEndObject();
        }

        writer.WriteStartObject("poolInfo"u8);
        WriteOptional(writer, "poolId"u8, job.PoolInfo.PoolId);
        writer.WriteEndObject();
        WriteOptional(writer, "onAllTasksComplete"u8, job.AllTasksCompleteMode?.Value);
        WriteOptional(writer, "onTaskFailure"u8, job.TaskFailureMode?.Value);
        if (job.UsesTaskDependencies is { } dependencies)
        {
            writer.WriteBoolean("usesTaskDependencies"u8, dependencies);
        }
    });

    /// <summary>Add Task Collection: <c>{"value":[task, ...]}</c>.</summary>
    public static byte[] WriteTaskCollection(IReadOnlyList<BatchTaskCreateContent> tasks) => Write(writer =>
    {
        writer.WriteStartArray("value"u8);
        foreach (var task in tasks)
        {
            writer.WriteStartObject();
            WriteTask(writer, task);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    });

    /// <summary>Terminate Job: <c>{"terminateReason":".."}</c>.</summary>
    public static byte[] WriteTerminate(string terminateReason) => Write(writer => writer.WriteString("terminateReason"u8, terminateReason));

    /// <summary>A job (Get Job).</summary>
    public static BatchJob ReadJob(JsonElement root)
    {
        var execution = Member(root, "executionInfo");
        return new BatchJob(RequiredString(root, "id"))
        {
            DisplayName = OptionalString(root, "displayName"),
            State = OptionalString(root, "state") is { } state ? new BatchJobState(state) : (BatchJobState?)null,
            StateTransitionTime = OptionalTime(root, "stateTransitionTime"),
            CreationTime = OptionalTime(root, "creationTime"),
            ETag = OptionalString(root, "eTag"),
            PoolInfo = Member(root, "poolInfo") is { } pool ? new BatchPoolInfo { PoolId = OptionalString(pool, "poolId") } : null,
            AllTasksCompleteMode = OptionalString(root, "onAllTasksComplete") is { } all ? new BatchAllTasksCompleteMode(all) : (BatchAllTasksCompleteMode?)null,
            TaskFailureMode = OptionalString(root, "onTaskFailure") is { } failure ? new BatchTaskFailureMode(failure) : (BatchTaskFailureMode?)null,
            ExecutionInfo = execution is { } info
                ? new BatchJobExecutionInfo
                {
                    StartTime = OptionalTime(info, "startTime"),
                    EndTime = OptionalTime(info, "endTime"),
                    PoolId = OptionalString(info, "poolId"),
                    TerminationReason = OptionalString(info, "terminateReason"),
                }
                : null,
        };
    }

    /// <summary>A page of List Tasks: <c>{"odata.metadata":"..","value":[task, ...],"odata.nextLink":".."}</c>.</summary>
    public static (IReadOnlyList<BatchTask> Tasks, string? NextLink) ReadTaskPage(JsonElement root)
    {
        var tasks = Member(root, "value") is { ValueKind: JsonValueKind.Array } values
            ? values.EnumerateArray().Select(ReadTask).ToArray()
            : [];
        return (tasks, OptionalString(root, "odata.nextLink") is { Length: > 0 } next ? next : null);
    }

    /// <summary>A task, with whatever members a <c>$select</c> left in it (only <c>id</c> is required).</summary>
    public static BatchTask ReadTask(JsonElement task) => new(RequiredString(task, "id"))
    {
        DisplayName = OptionalString(task, "displayName"),
        State = OptionalString(task, "state") is { } state ? new BatchTaskState(state) : (BatchTaskState?)null,
        StateTransitionTime = OptionalTime(task, "stateTransitionTime"),
        PreviousState = OptionalString(task, "previousState") is { } previous ? new BatchTaskState(previous) : (BatchTaskState?)null,
        CommandLine = OptionalString(task, "commandLine"),
        ETag = OptionalString(task, "eTag"),
        ExecutionInfo = Member(task, "executionInfo") is { } info ? ReadExecutionInfo(info) : null,
    };

    /// <summary>The result of Add Task Collection: <c>{"value":[{"status","taskId","eTag","lastModified","location","error"}]}</c>.</summary>
    public static BatchCreateTaskCollectionResult ReadTaskCollectionResult(JsonElement root) =>
        new(Member(root, "value") is { ValueKind: JsonValueKind.Array } values
            ? values.EnumerateArray().Select(result => new BatchTaskCreateResult(
                new BatchTaskAddStatus(RequiredString(result, "status")),
                RequiredString(result, "taskId"))
            {
                ETag = OptionalString(result, "eTag"),
                LastModified = OptionalTime(result, "lastModified"),
                Location = OptionalString(result, "location"),
                Error = Member(result, "error") is { } error ? ReadError(error) : null,
            }).ToArray()
            : []);

    /// <summary>An error body: <c>{"code","message":{"lang","value"},"values":[{"key","value"}]}</c>.</summary>
    public static BatchError ReadError(JsonElement error) => new(
        OptionalString(error, "code"),
        Member(error, "message") switch
        {
            { ValueKind: JsonValueKind.Object } message => new BatchErrorMessage(OptionalString(message, "lang"), OptionalString(message, "value")),
            { ValueKind: JsonValueKind.String } text => new BatchErrorMessage(null, text.GetString()),
            _ => null,
        })
    {
        Values = Member(error, "values") is { ValueKind: JsonValueKind.Array } values
            ? values.EnumerateArray().Select(value => new BatchErrorDetail(OptionalString(value, "key"), OptionalString(value, "value"))).ToArray()
            : [],
    };

    private static BatchTaskExecutionInfo ReadExecutionInfo(JsonElement info)
    {
        var failure = Member(info, "failureInfo");
        return new BatchTaskExecutionInfo
        {
            StartTime = OptionalTime(info, "startTime"),
            EndTime = OptionalTime(info, "endTime"),
            ExitCode = OptionalInt(info, "exitCode"),
            RetryCount = OptionalInt(info, "retryCount") ?? 0,
            RequeueCount = OptionalInt(info, "requeueCount") ?? 0,
            Result = OptionalString(info, "result") is { } result ? new BatchTaskExecutionResult(result) : (BatchTaskExecutionResult?)null,
            FailureInfo = failure is { } details
                ? new BatchTaskFailureInfo(new BatchErrorSourceCategory(OptionalString(details, "category") ?? ""))
                {
                    Code = OptionalString(details, "code"),
                    Message = OptionalString(details, "message"),
                    Details = Member(details, "details") is { ValueKind: JsonValueKind.Array } pairs
                        ? pairs.EnumerateArray().Select(pair => new NameValuePair(OptionalString(pair, "name"), OptionalString(pair, "value"))).ToArray()
                        : [],
                }
                : null,
        };
    }

    private static void WriteTask(Utf8JsonWriter writer, BatchTaskCreateContent task)
    {
        writer.WriteString("id"u8, task.Id);
        WriteOptional(writer, "displayName"u8, task.DisplayName);
        writer.WriteString("commandLine"u8, task.CommandLine);
        if (task.ResourceFiles.Count > 0)
        {
            writer.WriteStartArray("resourceFiles"u8);
            foreach (var file in task.ResourceFiles)
            {
                writer.WriteStartObject();
                WriteOptional(writer, "autoStorageContainerName"u8, file.AutoStorageContainerName);
                WriteOptional(writer, "storageContainerUrl"u8, file.StorageContainerUri?.AbsoluteUri);
                WriteOptional(writer, "httpUrl"u8, file.HttpUri?.AbsoluteUri);
                WriteOptional(writer, "blobPrefix"u8, file.BlobPrefix);
                WriteOptional(writer, "filePath"u8, file.FilePath);
                WriteOptional(writer, "fileMode"u8, file.FileMode);
                WriteIdentity(writer, file.IdentityReference);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (task.OutputFiles.Count > 0)
        {
            writer.WriteStartArray("outputFiles"u8);
            foreach (var file in task.OutputFiles)
            {
                writer.WriteStartObject();
                writer.WriteString("filePattern"u8, file.FilePattern);
                writer.WriteStartObject("destination"u8);
                if (file.Destination.Container is { } container)
                {
                    writer.WriteStartObject("container"u8);
                    WriteOptional(writer, "path"u8, container.Path);
                    writer.WriteString("containerUrl"u8, container.ContainerUri.AbsoluteUri);
                    WriteIdentity(writer, container.IdentityReference);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
                writer.WriteStartObject("uploadOptions"u8);
                writer.WriteString("uploadCondition"u8, file.UploadOptions.UploadCondition.Value);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (task.EnvironmentSettings.Count > 0)
        {
            writer.WriteStartArray("environmentSettings"u8);
            foreach (var setting in task.EnvironmentSettings)
            {
                writer.WriteStartObject();
                writer.WriteString("name"u8, setting.Name);
                WriteOptional(writer, "value"u8, setting.Value);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (task.Constraints is { } constraints)
        {
            writer.WriteStartObject("constraints"u8);
            WriteDuration(writer, "maxWallClockTime"u8, constraints.MaxWallClockTime);
            WriteDuration(writer, "retentionTime"u8, constraints.RetentionTime);
            if (constraints.MaxTaskRetryCount is { } retries)
            {
                writer.WriteNumber("maxTaskRetryCount"u8, retries);
            }

            writer.WriteEndObject();
        }

        if (task.RequiredSlots is { } slots)
        {
            writer.WriteNumber("requiredSlots"u8, slots);
        }

        if (task.UserIdentity is { } identity)
        {
            writer.WriteStartObject("userIdentity"u8);
            WriteOptional(writer, "username"u8, identity.UserName);
            if (identity.AutoUser is { } autoUser)
            {
                writer.WriteStartObject("autoUser"u8);
                WriteOptional(writer, "scope"u8, autoUser.Scope?.Value);
                WriteOptional(writer, "elevationLevel"u8, autoUser.ElevationLevel?.Value);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }
    }

    private static void WriteIdentity(Utf8JsonWriter writer, BatchNodeIdentityReference? identity)
    {
        if (identity is null)
        {
            return;
        }

        writer.WriteStartObject("identityReference"u8);
        writer.WriteString("resourceId"u8, identity.ResourceId);
        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteDuration(Utf8JsonWriter writer, ReadOnlySpan<byte> name, TimeSpan? value)
    {
        if (value is { } duration)
        {
            writer.WriteString(name, XmlConvert.ToString(duration));
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> writeMembers)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeMembers(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static JsonElement? Member(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    private static string RequiredString(JsonElement element, string name) =>
        OptionalString(element, name) is { Length: > 0 } value ? value : throw new KeyNotFoundException($"The body has no '{name}'.");

    private static string? OptionalString(JsonElement element, string name) =>
        Member(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static int? OptionalInt(JsonElement element, string name) =>
        Member(element, name) is { ValueKind: JsonValueKind.Number } value ? value.GetInt32() : null;

    private static DateTimeOffset? OptionalTime(JsonElement element, string name) =>
        OptionalString(element, name) is { } text
            ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)
            : null;
}
