using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Btmc.Platform.Azure.Batch;
using Btmc.Platform.Compute;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Azure.Tests.Batch;

public sealed class BatchComputePoolTests : LoopbackBatchTests
{
    [Fact]
    public async Task SubmitAsync_250Tasks_CreatesTheJobAndAddsCollectionsOf100_100_50()
    {
        var tasks = NewTasks(250);

        await NewPool().SubmitAsync("job-1", tasks);

        var job = Batch.FindJob("job-1") ?? throw new InvalidOperationException("No job was created.");
        Assert.Equal(PoolId, (string?)job["poolInfo"]?["poolId"]);
        Assert.Equal("noaction", (string?)job["onAllTasksComplete"]);
        var collections = Batch.Requests.Where(request => request.RawPath == "/jobs/job-1/addtaskcollection").ToArray();
        Assert.Equal([100, 100, 50], collections.Select(request => request.Json!["value"]!.AsArray().Count));
        Assert.Equal(tasks.Select(task => task.Id), Batch.TaskIds("job-1"));
        Assert.Empty(Batch.Violations);
    }

    [Fact]
    public async Task SubmitAsync_SameTasksAgain_IsIdempotent()
    {
        var pool = NewPool();
        var tasks = NewTasks(150);
        await pool.SubmitAsync("job-1", tasks);
        Batch.StartTask("job-1", "task-7");
        var before = Batch.Requests.Count;

        await pool.SubmitAsync("job-1", tasks);

        var again = Batch.Requests.Skip(before).ToArray();
        Assert.Equal(["/jobs", "/jobs/job-1/addtaskcollection", "/jobs/job-1/addtaskcollection"], again.Select(request => request.RawPath));
        Assert.Equal(tasks.Select(task => task.Id), Batch.TaskIds("job-1"));
        Assert.Equal("running", (string?)Batch.FindTask("job-1", "task-7")?["state"]);
    }

    [Fact]
    public async Task SubmitAsync_TaskRefusedForAnotherReason_ThrowsNamingTheTaskAfterAddingTheOthers()
    {
        Batch.TaskAddFailures["task-7"] = ("clienterror", "InvalidPropertyValue", "The value provided for one of the properties in the request body is invalid.");
        var tasks = NewTasks(120);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => NewPool().SubmitAsync("job-1", tasks));

        Assert.Contains("1 task(s) of job 'job-1'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("task 'task-7': InvalidPropertyValue (clienterror) The value provided", failure.Message, StringComparison.Ordinal);
        Assert.Equal(119, Batch.TaskIds("job-1").Count);
        Assert.DoesNotContain("task-7", Batch.TaskIds("job-1"));
    }

    [Fact]
    public async Task SubmitAsync_ServerErrorForATask_ThrowsAndResubmittingAddsIt()
    {
        Batch.TaskAddFailures["task-2"] = ("servererror", "ServerBusy", "The server is busy.");
        var pool = NewPool();
        var tasks = NewTasks(3);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => pool.SubmitAsync("job-1", tasks));
        Assert.Contains("task 'task-2': ServerBusy (servererror)", failure.Message, StringComparison.Ordinal);
        Batch.TaskAddFailures.Clear();
        await pool.SubmitAsync("job-1", tasks);

        Assert.Equal(["task-1", "task-3", "task-2"], Batch.TaskIds("job-1"));
    }

    [Fact]
    public async Task SubmitAsync_ThrottledOnce_IsRetried()
    {
        Batch.FailNext(1, status: 503);

        await NewPool().SubmitAsync("job-1", NewTasks(3));

        Assert.Equal(3, Batch.TaskIds("job-1").Count);
    }

    [Fact]
    public async Task SubmitAsync_Task_CarriesTheWorkerCommandContributorInputsAndOutputs()
    {
        var task = new ComputeTask(
            "frame-0001",
            "alice",
            ["render", "--frame", "1", "--scene", "scene.blend"],
            [
                new TaskInputFile("scene.blend", "https://btmcstore.blob.core.windows.net/inputs/job-1/scene.blend"),
                new TaskInputFile("assets/tex.png", "https://cdn.example.org/tex.png"),
                new TaskInputFile("lut.cube", "https://btmcstore.blob.core.windows.net/inputs/lut.cube?sv=2024&sig=abc"),
            ]);

        await NewPool().SubmitAsync("job-1", [task]);

        var sent = Batch.Requests.Single(request => request.RawPath == "/jobs/job-1/addtaskcollection").Json!["value"]!.AsArray().Single()!;
        Assert.Equal("/bin/sh -c \"$AZ_BATCH_NODE_SHARED_DIR/btmc/btmc worker 'render' '--frame' '1' '--scene' 'scene.blend'\"", (string?)sent["commandLine"]);
        Assert.Equal("alice", (string?)sent["displayName"]);
        var expectedEnvironment = JsonNode.Parse("""[{ "name": "BTMC_CONTRIBUTOR", "value": "alice" }]""");
        Assert.True(JsonNode.DeepEquals(expectedEnvironment, sent["environmentSettings"]));
        var expectedInputs = JsonNode.Parse($$"""
            [
              { "httpUrl": "https://btmcstore.blob.core.windows.net/inputs/job-1/scene.blend", "filePath": "scene.blend", "identityReference": { "resourceId": "{{IdentityId}}" } },
              { "httpUrl": "https://cdn.example.org/tex.png", "filePath": "assets/tex.png" },
              { "httpUrl": "https://btmcstore.blob.core.windows.net/inputs/lut.cube?sv=2024&sig=abc", "filePath": "lut.cube" }
            ]
            """);
        Assert.True(JsonNode.DeepEquals(expectedInputs, sent["resourceFiles"]), sent["resourceFiles"]!.ToJsonString());
        var expectedOutputs = JsonNode.Parse($$"""
            [
              { "filePattern": "out/**/*", "destination": { "container": { "path": "job-1/frame-0001/out", "containerUrl": "https://btmcstore.blob.core.windows.net/compute-outputs", "identityReference": { "resourceId": "{{IdentityId}}" } } }, "uploadOptions": { "uploadCondition": "taskcompletion" } },
              { "filePattern": "../stdout.txt", "destination": { "container": { "path": "job-1/frame-0001/stdout.txt", "containerUrl": "https://btmcstore.blob.core.windows.net/compute-outputs", "identityReference": { "resourceId": "{{IdentityId}}" } } }, "uploadOptions": { "uploadCondition": "taskcompletion" } },
              { "filePattern": "../stderr.txt", "destination": { "container": { "path": "job-1/frame-0001/stderr.txt", "containerUrl": "https://btmcstore.blob.core.windows.net/compute-outputs", "identityReference": { "resourceId": "{{IdentityId}}" } } }, "uploadOptions": { "uploadCondition": "taskcompletion" } }
            ]
            """);
        Assert.True(JsonNode.DeepEquals(expectedOutputs, sent["outputFiles"]), sent["outputFiles"]!.ToJsonString());
        var expectedConstraints = JsonNode.Parse("""{ "maxWallClockTime": "PT4H", "maxTaskRetryCount": 2 }""");
        Assert.True(JsonNode.DeepEquals(expectedConstraints, sent["constraints"]), sent["constraints"]!.ToJsonString());
        var expectedUser = JsonNode.Parse("""{ "autoUser": { "scope": "pool", "elevationLevel": "nonadmin" } }""");
        Assert.True(JsonNode.DeepEquals(expectedUser, sent["userIdentity"]));
    }

    [Theory]
    [InlineData("/srv/btmc/inputs/scene.blend")]
    [InlineData("http://btmcstore.blob.core.windows.net/inputs/scene.blend")]
    [InlineData("file:///srv/scene.blend")]
    [InlineData("inputs/scene.blend")]
    public async Task SubmitAsync_InputNotAnHttpsUrl_IsRefusedBeforeSending(string source)
    {
        var task = new ComputeTask("task-1", "alice", ["hash-range"], [new TaskInputFile("scene.blend", source)]);

        var failure = await Assert.ThrowsAsync<ArgumentException>(() => NewPool().SubmitAsync("job-1", [task]));

        Assert.Contains("task-1", failure.Message, StringComparison.Ordinal);
        Assert.Contains("not an https URL", failure.Message, StringComparison.Ordinal);
        Assert.Empty(Batch.Requests);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/abs")]
    [InlineData("a/../../b")]
    [InlineData("")]
    public async Task SubmitAsync_InputFileNameOutsideTheWorkingDirectory_IsRefusedBeforeSending(string fileName)
    {
        var task = new ComputeTask("task-1", "alice", ["hash-range"], [new TaskInputFile(fileName, "https://cdn.example.org/x")]);

        await Assert.ThrowsAsync<ArgumentException>(() => NewPool().SubmitAsync("job-1", [task]));

        Assert.Empty(Batch.Requests);
    }

    [Theory]
    [InlineData("task 1", "task-2")]
    [InlineData("task-1", "TASK-1")]
    [InlineData("task-1", "")]
    public async Task SubmitAsync_MalformedOrDuplicateTaskIds_AreRefusedBeforeSending(string first, string second)
    {
        ComputeTask[] tasks = [new(first, "alice", ["hash-range"], []), new(second, "bob", ["hash-range"], [])];

        await Assert.ThrowsAsync<ArgumentException>(() => NewPool().SubmitAsync("job-1", tasks));

        Assert.Empty(Batch.Requests);
    }

    [Fact]
    public void WorkerCommandLine_ArgumentWithASpaceAndASingleQuote_IsSingleQuotedForSh()
    {
        var commandLine = NewPool().WorkerCommandLine(["hash-range", "two words", "it's"]);

        Assert.Equal("/bin/sh -c \"$AZ_BATCH_NODE_SHARED_DIR/btmc/btmc worker 'hash-range' 'two words' 'it'\\''s'\"", commandLine);
    }

    [Fact]
    public void WorkerCommandLine_ShellSpecialCharacters_AreEscapedForTheDoubleQuotes()
    {
        var commandLine = NewPool().WorkerCommandLine(["say \"hi\"", "$HOME", "`id`", "a\\b", "\\$"]);

        Assert.Equal(
            "/bin/sh -c \"$AZ_BATCH_NODE_SHARED_DIR/btmc/btmc worker 'say \\\"hi\\\"' '\\$HOME' '\\`id\\`' 'a\\b' '\\\\\\$'\"",
            commandLine);
    }

    [Fact]
    public async Task WorkerCommandLine_AnyArguments_ReachTheWorkerUnchangedThroughPosixSh()
    {
        using var directory = new TempDirectory();
        var script = directory.Combine("print-args.sh");
        await File.WriteAllTextAsync(script, "for a in \"$@\"; do printf '%s\\0' \"$a\"; done\n");
        var pool = NewPool(new BatchPoolSettings(OutputContainer, IdentityId) { WorkerExecutable = "sh " + script });
        string[] arguments =
        [
            "hash-range", "--header", "00ff", "two words", "it's", "'", "''", "say \"hi\"", "$HOME", "${PATH}", "`id`", "$(id)",
            "back\\slash", "trailing\\", "\\\"", "two\\\\", "\\$x", "new\nline", "", "*", "a;b|c&d>e", "tab\there", "é ü 日本",
        ];

        var commandLine = pool.WorkerCommandLine(arguments);
        // The Batch node agent splits the command line with POSIX quoting; /bin/sh does the same (and more).
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, StandardOutputEncoding = Encoding.UTF8 };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(commandLine);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("/bin/sh did not start.");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Equal(["worker", .. arguments], output.Split('\0')[..^1]);
    }

    [Fact]
    public async Task GetTasksAsync_TasksInEveryState_MapsThemAcrossPages()
    {
        var pool = NewPool();
        await pool.SubmitAsync("job-1", NewTasks(7));
        Batch.PrepareTask("job-1", "task-2");
        Batch.StartTask("job-1", "task-3");
        Batch.StartTask("job-1", "task-4");
        Batch.CompleteTask("job-1", "task-4", exitCode: 0);
        Batch.StartTask("job-1", "task-5");
        Batch.CompleteTask("job-1", "task-5", exitCode: 3);
        Batch.FailTaskBeforeRun("job-1", "task-6", "BlobAccessDenied", "Access for one of the specified Azure Blob(s) is denied");
        Batch.StartTask("job-1", "task-7");
        Batch.CompleteTask("job-1", "task-7", exitCode: 0, failureMessage: "Upload of out/** failed");
        var before = Batch.Requests.Count;

        var statuses = await pool.GetTasksAsync("job-1");

        Assert.Equal(
            [
                new ComputeTaskStatus("task-1", ComputeTaskState.Pending, null, null),
                new ComputeTaskStatus("task-2", ComputeTaskState.Pending, null, null),
                new ComputeTaskStatus("task-3", ComputeTaskState.Running, null, null),
                new ComputeTaskStatus("task-4", ComputeTaskState.Completed, 0, null),
                new ComputeTaskStatus("task-5", ComputeTaskState.Failed, 3, "The task process exited with an unexpected exit code"),
                new ComputeTaskStatus("task-6", ComputeTaskState.Failed, null, "Access for one of the specified Azure Blob(s) is denied"),
                new ComputeTaskStatus("task-7", ComputeTaskState.Failed, 0, "Upload of out/** failed"),
            ],
            statuses);
        var pages = Batch.Requests.Skip(before).ToArray();
        Assert.Equal(4, pages.Length);
        Assert.All(pages, page => Assert.Equal("id,state,executionInfo", page.QueryValue("$select")));
    }

    [Fact]
    public async Task GetTasksAsync_MissingJob_Throws404JobNotFound()
    {
        var failure = await Assert.ThrowsAsync<global::Azure.RequestFailedException>(() => NewPool().GetTasksAsync("missing"));

        Assert.Equal((404, "JobNotFound"), (failure.Status, failure.ErrorCode));
    }

    [Fact]
    public async Task ReadTaskFileAsync_StdoutStderrAndOutFiles_AreReadFromTheTaskDirectory()
    {
        var pool = NewPool();
        await pool.SubmitAsync("job-1", NewTasks(1));
        Batch.SetTaskFile("job-1", "task-1", "stdout.txt", "{\"hashes\":42}\n"u8.ToArray());
        Batch.SetTaskFile("job-1", "task-1", "stderr.txt", "warning\n"u8.ToArray());
        Batch.SetTaskFile("job-1", "task-1", "wd/out/frame-0001.png", [1, 2, 3]);

        Assert.Equal("{\"hashes\":42}\n"u8.ToArray(), await pool.ReadTaskFileAsync("job-1", "task-1", "stdout.txt"));
        Assert.Equal("warning\n"u8.ToArray(), await pool.ReadTaskFileAsync("job-1", "task-1", "stderr.txt"));
        Assert.Equal([1, 2, 3], await pool.ReadTaskFileAsync("job-1", "task-1", "out/frame-0001.png"));

        Assert.Equal(
            ["/jobs/job-1/tasks/task-1/files/stdout.txt", "/jobs/job-1/tasks/task-1/files/stderr.txt", "/jobs/job-1/tasks/task-1/files/wd/out/frame-0001.png"],
            Batch.Requests.TakeLast(3).Select(request => request.RawPath));
    }

    [Fact]
    public async Task ReadTaskFileAsync_MissingFile_ReturnsNull()
    {
        var pool = NewPool();
        await pool.SubmitAsync("job-1", NewTasks(1));

        Assert.Null(await pool.ReadTaskFileAsync("job-1", "task-1", "stdout.txt"));
        Assert.Null(await pool.ReadTaskFileAsync("job-1", "task-1", "out/missing.png"));
    }

    [Theory]
    [InlineData("wd/out/x")]
    [InlineData("out/../../x")]
    [InlineData("out/")]
    [InlineData("fileuploadout.txt")]
    [InlineData("../stdout.txt")]
    public async Task ReadTaskFileAsync_PathNotStdoutStderrOrOut_IsRefusedBeforeSending(string path)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => NewPool().ReadTaskFileAsync("job-1", "task-1", path));

        Assert.Empty(Batch.Requests);
    }

    [Fact]
    public async Task TerminateAsync_JobWithUnfinishedTasks_EndsThemAndKeepsTheirFiles()
    {
        var pool = NewPool();
        await pool.SubmitAsync("job-1", NewTasks(3));
        Batch.StartTask("job-1", "task-1");
        Batch.StartTask("job-1", "task-2");
        Batch.CompleteTask("job-1", "task-2", exitCode: 0);
        Batch.SetTaskFile("job-1", "task-2", "stdout.txt", "done"u8.ToArray());

        await pool.TerminateAsync("job-1");

        Assert.Equal("completed", (string?)Batch.FindJob("job-1")?["state"]);
        var statuses = await pool.GetTasksAsync("job-1");
        Assert.Equal(
            [
                new ComputeTaskStatus("task-1", ComputeTaskState.Failed, null, "Task Was Ended by User Request"),
                new ComputeTaskStatus("task-2", ComputeTaskState.Completed, 0, null),
                new ComputeTaskStatus("task-3", ComputeTaskState.Failed, null, "Task Was Ended by User Request"),
            ],
            statuses);
        Assert.Equal("done"u8.ToArray(), await pool.ReadTaskFileAsync("job-1", "task-2", "stdout.txt"));
    }

    [Fact]
    public async Task TerminateAsync_CompletedOrUnknownJob_IsFine()
    {
        var pool = NewPool();
        await pool.SubmitAsync("job-1", NewTasks(1));
        await pool.TerminateAsync("job-1");

        await pool.TerminateAsync("job-1");
        await pool.TerminateAsync("never-submitted");

        var answers = Batch.Requests.Where(request => request.RawPath.EndsWith("/terminate", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, answers.Length);
    }

    [Fact]
    public async Task TerminateAsync_OtherFailure_Surfaces()
    {
        var pool = NewPool(options: Options(maxRetries: 0));
        Batch.FailNext(1, status: 503);

        var failure = await Assert.ThrowsAsync<global::Azure.RequestFailedException>(() => pool.TerminateAsync("job-1"));

        Assert.Equal((503, "ServerBusy"), (failure.Status, failure.ErrorCode));
    }

    [Theory]
    [InlineData("http://btmcstore.blob.core.windows.net/compute-outputs", IdentityId)]
    [InlineData("https://btmcstore.blob.core.windows.net/", IdentityId)]
    [InlineData("https://btmcstore.blob.core.windows.net/compute-outputs?sv=1&sig=x", IdentityId)]
    [InlineData("https://btmcstore.blob.core.windows.net/compute-outputs", "batch-nodes")]
    public void BatchComputePool_InvalidSettings_AreRefused(string container, string identity)
    {
        var client = NewClient();

        Assert.Throws<ArgumentException>(() => new BatchComputePool(client, PoolId, new BatchPoolSettings(new Uri(container), identity)));
    }

    [Fact]
    public void BatchComputePool_MalformedPoolId_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new BatchComputePool(NewClient(), "gpu pool", new BatchPoolSettings(OutputContainer, IdentityId)));
    }

    private static ComputeTask[] NewTasks(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new ComputeTask($"task-{i}", $"contributor-{i % 7}", ["hash-range", "--start", (i * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture)], []))];
}
