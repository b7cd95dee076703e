using System.Buffers.Binary;
using System.Diagnostics;

namespace Btmc.Testing;

/// <summary>
/// A tiny Blender scene made at test time with the installed Blender (<c>blender -b --python-expr</c>): a cube that
/// turns over the frames, a camera and a sun, at a small resolution, saved as a .blend file. Also reads PNG sizes.
/// Blender is required (./test.sh installs it from the system packages); without it this fails loudly.
/// </summary>
public static class BlenderScene
{
    private const string Script = """
        import bpy, sys
        path, width, height, frames = sys.argv[sys.argv.index("--") + 1:]
        bpy.ops.wm.read_factory_settings(use_empty=True)
        scene = bpy.context.scene
        scene.render.resolution_x = int(width)
        scene.render.resolution_y = int(height)
        scene.render.resolution_percentage = 100
        scene.frame_start = 1
        scene.frame_end = int(frames)
        bpy.ops.mesh.primitive_cube_add(size=2)
        cube = bpy.context.active_object
        cube.keyframe_insert(data_path="rotation_euler", frame=1)
        cube.rotation_euler = (0.5, 0.8, 1.2)
        cube.keyframe_insert(data_path="rotation_euler", frame=int(frames))
        bpy.ops.object.camera_add(location=(6, -6, 4), rotation=(1.1, 0, 0.785))
        scene.camera = bpy.context.active_object
        bpy.ops.object.light_add(type="SUN", location=(0, 0, 5))
        scene.render.engine = "BLENDER_WORKBENCH"
        if hasattr(scene, "cycles"):
            scene.cycles.samples = 8
        bpy.ops.wm.save_as_mainfile(filepath=path)
        """;

    /// <summary>Writes <c>scene.blend</c> into <paramref name="directory"/> and returns its path.</summary>
    public static async Task<string> CreateAsync(string directory, int width = 64, int height = 48, int frames = 4)
    {
        var path = Path.Combine(directory, "scene.blend");
        var start = new ProcessStartInfo(Blender())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-b", "--factory-startup", "--python-exit-code", "1", "--python-expr", Script, "--", path, $"{width}", $"{height}", $"{frames}"])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("blender did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || !File.Exists(path))
        {
            throw new InvalidOperationException($"blender could not make the test scene (exit {process.ExitCode}):\n{await output}\n{await error}");
        }

        return path;
    }

    /// <summary>The Blender executable: BTMC_BLENDER, else blender on PATH.</summary>
    public static string Blender()
    {
        if (Environment.GetEnvironmentVariable("BTMC_BLENDER") is { Length: > 0 } configured)
        {
            return configured;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(directory, "blender")))
            {
                return Path.Combine(directory, "blender");
            }
        }

        throw new InvalidOperationException("blender is not installed: ./test.sh installs it (apt-get install blender), or set BTMC_BLENDER.");
    }

    /// <summary>Width and height from a PNG's IHDR chunk; throws when the bytes are not a PNG.</summary>
    public static (int Width, int Height) PngSize(byte[] png)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (png.Length < 24 || !png.AsSpan(0, 8).SequenceEqual(signature) || !png.AsSpan(12, 4).SequenceEqual("IHDR"u8))
        {
            throw new InvalidDataException("not a PNG file");
        }

        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
