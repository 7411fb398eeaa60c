"""Published centreline velocities of the lid-driven cavity, the check of its reference solver.

Facts from the paper (not code): the Re = 100 columns of Tables I and II.
"""

# Ghia, U., Ghia, K. N. & Shin, C. T. (1982), "High-Re solutions for incompressible flow using the
# Navier-Stokes equations and a multigrid method", J. Comput. Phys. 48, 387-411; Re = 100, 129 x 129 grid.
# Table I: u along the vertical line through the centre (x = 0.5), at y.
GHIA_Y = [1.0, 0.9766, 0.9688, 0.9609, 0.9531, 0.8516, 0.7344, 0.6172, 0.5, 0.4531, 0.2813, 0.1719, 0.1016,
          0.0703, 0.0625, 0.0547, 0.0]
GHIA_U = [1.0, 0.84123, 0.78871, 0.73722, 0.68717, 0.23151, 0.00332, -0.13641, -0.20581, -0.21090, -0.15662,
          -0.10150, -0.06434, -0.04775, -0.04192, -0.03717, 0.0]
# Table II: v along the horizontal line through the centre (y = 0.5), at x.
GHIA_X = [1.0, 0.9688, 0.9609, 0.9531, 0.9453, 0.9063, 0.8594, 0.8047, 0.5, 0.2344, 0.2266, 0.1563, 0.0938,
          0.0781, 0.0703, 0.0625, 0.0]
GHIA_V = [0.0, -0.05906, -0.07391, -0.08864, -0.10313, -0.16914, -0.22445, -0.24533, 0.05454, 0.17527, 0.17507,
          0.16077, 0.12317, 0.10890, 0.10091, 0.09233, 0.0]
