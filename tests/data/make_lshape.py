"""Writes tests/data/lshape.msh: the L-shaped domain [-1, 1]^2 minus (0, 1] x (0, 1].

A uniform grid of spacing 0.1 on [-1, 1]^2; each square not in the removed quadrant
is split into two triangles (diagonals alternate). 600 triangles, area 3, boundary length 8.
Run: ``python tests/data/make_lshape.py``.
"""

from pathlib import Path

import meshio
import numpy as np


def lshape(n: int = 20) -> meshio.Mesh:
    xs = np.linspace(-1.0, 1.0, n + 1)
    index = {}
    points, triangles = [], []

    def vid(i, j):
        if (i, j) not in index:
            index[i, j] = len(points)
            points.append([xs[i], xs[j], 0.0])
        return index[i, j]

    for i in range(n):
        for j in range(n):
            if i >= n // 2 and j >= n // 2:  # the removed quadrant x > 0, y > 0
                continue
            a, b, c, d = vid(i, j), vid(i + 1, j), vid(i + 1, j + 1), vid(i, j + 1)
            triangles += [[a, b, c], [a, c, d]] if (i + j) % 2 == 0 else [[a, b, d], [b, c, d]]
    return meshio.Mesh(np.array(points), [("triangle", np.array(triangles))])


if __name__ == "__main__":
    out = Path(__file__).with_name("lshape.msh")
    meshio.write(out, lshape(), file_format="gmsh22", binary=False)
    print(out, out.stat().st_size, "bytes")
